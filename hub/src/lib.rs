#![doc = include_str!("../README.md")]

mod event_loop;
mod heap;
mod io;
mod sys;
mod watcher;

pub use crate::event_loop::Loop;
pub use crate::io::{Interest, Ready};
pub use crate::watcher::{Async, AsyncSender, Check, Child, Idle, Io, Prepare, Signal, Timer};
