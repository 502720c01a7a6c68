//! [`Room`]: one message to many sockets, without a slow one holding up the
//! others.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use thicket_green::{Queue, TryPutError};

use super::socket::Sender;
use super::Message;

/// A member of a [`Room`], as [`Room::join`] returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemberId(u64);

struct Member {
    queue: Queue<Arc<Message>>,
    sender: Sender,
}

struct Inner {
    members: Mutex<HashMap<u64, Member>>,
    next: AtomicU64,
    queue_len: usize,
}

/// A set of sockets that messages are broadcast to (a chat room, the
/// viewers of a live graph).
///
/// Each member has a bounded queue (default 256 messages) drained by a
/// green thread of its own that sends to its socket, so
/// [`broadcast`](Self::broadcast) never waits for a socket: it only queues.
/// **A slow member is dropped**: when its queue is full (it has not taken
/// the last 256 messages), it is removed from the room and its connection
/// is cut at once, without a close frame (its writer is stuck behind data
/// the peer is not reading, so a close frame could not get through), which
/// wakes its handler's `recv` with an error. A member whose socket fails or
/// closes leaves the room by itself.
///
/// `Room` is cheap to clone (clones share the members) and `Send + Sync`.
///
/// # Examples
///
/// ```no_run
/// use thicket_http::ws::{self, Message, Room};
/// use thicket_http::Request;
///
/// let room = Room::new();
/// let config = ws::Config::new();
/// let handler = move |req: Request| {
///     let room = room.clone();
///     ws::upgrade(&req, &config, move |mut socket| {
///         let me = room.join(socket.sender());
///         while let Ok(msg) = socket.recv() {
///             if let Message::Text(_) = msg {
///                 room.broadcast(msg);
///             }
///         }
///         room.leave(me);
///     })
/// };
/// # drop(handler);
/// ```
#[derive(Clone)]
pub struct Room {
    inner: Arc<Inner>,
}

impl Default for Room {
    fn default() -> Room {
        Room::new()
    }
}

impl Room {
    /// An empty room whose members may fall 256 messages behind.
    pub fn new() -> Room {
        Room::with_queue_len(256)
    }

    /// An empty room whose members may fall `n` messages behind before
    /// they are dropped (at least 1).
    pub fn with_queue_len(n: usize) -> Room {
        Room {
            inner: Arc::new(Inner {
                members: Mutex::new(HashMap::new()),
                next: AtomicU64::new(0),
                queue_len: n.max(1),
            }),
        }
    }

    /// Adds a socket, with a green thread (on the calling hub) that sends
    /// it what is broadcast.
    pub fn join(&self, sender: Sender) -> MemberId {
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let queue = Queue::bounded(self.inner.queue_len);
        self.inner.members.lock().insert(
            id,
            Member {
                queue: queue.clone(),
                sender: sender.clone(),
            },
        );
        let room: Weak<Inner> = Arc::downgrade(&self.inner);
        thicket_green::spawn_n(move || {
            while let Ok(msg) = queue.get() {
                if sender.send_ref(&msg).is_err() {
                    break;
                }
            }
            queue.close();
            if let Some(room) = room.upgrade() {
                room.members.lock().remove(&id);
            }
        });
        MemberId(id)
    }

    /// Removes a member; what was queued for it is still sent. Removing
    /// one that has left already does nothing.
    pub fn leave(&self, id: MemberId) {
        if let Some(m) = self.inner.members.lock().remove(&id.0) {
            m.queue.close();
        }
    }

    /// Queues `msg` for every member; returns for how many it was queued.
    /// Members whose queue is full are dropped (see the type's
    /// documentation).
    pub fn broadcast(&self, msg: Message) -> usize {
        self.send_all(msg, None)
    }

    /// Like [`broadcast`](Self::broadcast), to every member but `except`
    /// (the sender of a chat line, say).
    pub fn broadcast_except(&self, except: MemberId, msg: Message) -> usize {
        self.send_all(msg, Some(except.0))
    }

    fn send_all(&self, msg: Message, except: Option<u64>) -> usize {
        let msg = Arc::new(msg);
        let mut slow = Vec::new();
        let mut queued = 0;
        let mut members = self.inner.members.lock();
        for (id, m) in members.iter() {
            if Some(*id) == except {
                continue;
            }
            match m.queue.try_put(msg.clone()) {
                Ok(()) => queued += 1,
                Err(TryPutError::Full(_)) => slow.push(*id),
                Err(TryPutError::Closed(_)) => {}
            }
        }
        for id in slow {
            if let Some(m) = members.remove(&id) {
                m.queue.close();
                m.sender.abort();
                log::debug!(
                    target: "thicket_http",
                    "WebSocket room: dropped {:?}, {} messages behind",
                    m.sender.peer_addr(),
                    self.inner.queue_len
                );
            }
        }
        queued
    }

    /// How many members there are.
    pub fn len(&self) -> usize {
        self.inner.members.lock().len()
    }

    /// Whether the room has no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Room")
            .field("members", &self.len())
            .field("queue_len", &self.inner.queue_len)
            .finish()
    }
}
