//! A subscription replaces a signal's disposition while it lives and puts
//! the previous one back when it is dropped.

use thicket_green::signal::Signals;

fn disposition(signum: i32) -> libc::sighandler_t {
    // SAFETY: a zeroed sigaction is a valid out-parameter; a null new action
    // only queries.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(signum, std::ptr::null(), &mut old), 0);
        old.sa_sigaction
    }
}

#[test]
fn dropping_the_subscription_restores_an_ignored_signal() {
    let sig = libc::SIGUSR2;
    // SAFETY: setting SIG_IGN installs no code.
    assert_ne!(unsafe { libc::signal(sig, libc::SIG_IGN) }, libc::SIG_ERR);
    assert_eq!(disposition(sig), libc::SIG_IGN);

    let signals = Signals::new(&[sig]).unwrap();
    let during = disposition(sig);
    assert_ne!(during, libc::SIG_IGN);
    assert_ne!(during, libc::SIG_DFL);
    // SAFETY: raise only sends a signal, which the subscription handles.
    unsafe { libc::raise(sig) };
    assert_eq!(signals.recv(), Ok(sig));
    drop(signals);

    assert_eq!(disposition(sig), libc::SIG_IGN);
}

#[test]
fn signals_that_cannot_be_caught_are_refused() {
    for sig in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, 65] {
        let err = Signals::new(&[sig]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "signal {sig}");
    }
}
