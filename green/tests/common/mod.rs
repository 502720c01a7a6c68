//! Helpers shared by the integration tests.

use thicket_green::yield_now;

/// Yields (letting every ready green thread run) until `cond` holds; panics
/// after 1,000 scheduler turns, so a wake-up that never comes fails the test
/// instead of hanging it.
pub fn until(cond: impl Fn() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        yield_now().unwrap();
    }
    panic!("condition never held");
}
