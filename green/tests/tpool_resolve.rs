//! Name resolution through the pool, and numeric addresses without it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use thicket_green::{spawn, tpool};

#[test]
fn numeric_addresses_resolve_to_themselves() {
    let want: SocketAddr = "127.0.0.1:8080".parse().unwrap();
    assert_eq!(tpool::resolve("127.0.0.1:8080").unwrap(), vec![want]);
    assert_eq!(tpool::resolve(want).unwrap(), vec![want]);
    assert_eq!(
        tpool::resolve((IpAddr::V4(Ipv4Addr::LOCALHOST), 8080)).unwrap(),
        vec![want]
    );
    assert_eq!(
        tpool::resolve((String::from("::1"), 9)).unwrap(),
        vec!["[::1]:9".parse::<SocketAddr>().unwrap()]
    );
}

#[test]
fn localhost_resolves_on_a_green_thread() {
    let gt = spawn(|| tpool::resolve(("localhost", 4321)));
    let addrs = gt.join().unwrap().unwrap();
    assert!(!addrs.is_empty());
    assert!(
        addrs
            .iter()
            .all(|a| a.port() == 4321 && a.ip().is_loopback()),
        "{addrs:?}"
    );
}

#[test]
fn a_malformed_address_is_an_error() {
    // No port: rejected by the resolver, not a panic.
    assert!(tpool::resolve(String::from("localhost")).is_err());
    assert!(tpool::resolve("256.1.1.1:80x").is_err());
}
