use super::*;

#[test]
fn result_lines_are_read_and_failures_refused() {
    let out = "some warning\nmode=echo connections=1 size=32 window=1 threads=1 seconds=2 \
               messages=76887 rate=38443.5 mib_per_sec=1.17 p50_us=24.6 p99_us=45.1 errors=0\n";
    let s = parse_sample(out).unwrap();
    assert_eq!(s.rate, 38443.5);
    assert_eq!(s.mib_per_sec, 1.17);
    assert_eq!(s.p50_ms, Some(0.0246));
    assert_eq!(s.p99_ms, Some(0.0451));
    assert_eq!((s.messages, s.cpu_us), (76887, None));
    let stream =
        "mode=stream messages=2000 rate=1000.0 mib_per_sec=0.03 p50_us=n/a p99_us=n/a errors=0";
    let s = parse_sample(stream).unwrap();
    assert_eq!((s.rate, s.p50_ms, s.p99_ms), (1000.0, None, None));
    for (bad, why) in [
        ("", "no result line"),
        (
            "mode=echo rate=1 mib_per_sec=1 p50_us=1 p99_us=1 errors=3",
            "3 connection(s) failed",
        ),
        (
            "mode=echo rate=fast mib_per_sec=1 p50_us=1 p99_us=1 errors=0",
            "`rate=fast`",
        ),
        (
            "mode=echo mib_per_sec=1 p50_us=1 p99_us=1 errors=0",
            "no `rate=`",
        ),
        (
            "mode=echo rate=n/a mib_per_sec=1 p50_us=1 p99_us=1 errors=0",
            "`rate` is n/a",
        ),
        (
            "mode=echo rate=-5 mib_per_sec=1 p50_us=1 p99_us=1 errors=0",
            "not a number",
        ),
        (
            "mode=echo rate=1 mib_per_sec=1 p50_us=1 p99_us=1 errors=0",
            "no `messages=`",
        ),
    ] {
        let err = parse_sample(bad).unwrap_err();
        assert!(err.contains(why), "{bad:?}: {err}");
    }
}

#[test]
fn cpu_time_from_a_stat_line() {
    // A command name with a space and a bracket; utime 250 and stime 130 ticks.
    let stat = "4242 (ws echo) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 130 0 0 20 0 \
                3 0 123 456 789";
    assert_eq!(parse_cpu_secs(stat), Some(3.8));
    assert_eq!(parse_cpu_secs("4242 (ws) S 1 2 3"), None);
    assert_eq!(parse_cpu_secs("garbage"), None);
    assert!(cpu_secs(std::process::id()).is_some());
    assert_eq!(cpu(0.384), "0.38 µs");
    assert_eq!(cpu(12.94), "12.9 µs");
    assert_eq!(cpu(143.2), "143 µs");
}

#[test]
fn plans_and_server_selection() {
    assert_eq!(Plan::new(false, None, None), Plan::FULL);
    assert_eq!(Plan::new(true, None, None), Plan::QUICK);
    let p = Plan::new(true, Some(2), Some(3));
    assert_eq!((p.rounds, p.secs), (2, 3.0));
    assert_eq!(
        p.command(true),
        "cargo xtask bench --only ws --quick --rounds 2 --duration 3"
    );
    assert_eq!(Plan::FULL.command(false), "cargo xtask bench --only ws");
    let five = Plan::new(false, Some(5), None);
    assert_eq!(
        five.command(false),
        "cargo xtask bench --only ws --rounds 5"
    );
    let names = |v: Vec<Server>| v.iter().map(|s| s.name).collect::<Vec<_>>();
    assert_eq!(names(select(None)), ["thicket", "tungstenite"]);
    let only = ["tungstenite".to_string(), "hyper".to_string()];
    assert_eq!(names(select(Some(&only))), ["tungstenite"]);
    assert!(select(Some(&["hyper".to_string()])).is_empty());
}

#[test]
fn loads_have_distinct_names_and_the_quick_run_stays_short() {
    let mut names: Vec<&str> = LOADS.iter().map(|l| l.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), LOADS.len());
    let quick = Plan::QUICK;
    let secs = SERVERS.len() as f64 * (quick.warmup_secs + LOADS.len() as f64 * quick.secs);
    assert!(secs <= 30.0, "{secs} s of load in a quick run");
    assert_eq!(
        load_args(&LOADS[2], "127.0.0.1:9", 1.5).join(" "),
        "--addr 127.0.0.1:9 --mode echo --size 32 --connections 1000 --threads 2 --duration 1.5"
    );
}

fn sample(rate: f64, p50: Option<f64>) -> Sample {
    Sample {
        rate,
        mib_per_sec: rate / 1000.0,
        p50_ms: p50,
        p99_ms: p50.map(|x| x * 2.0),
        messages: rate as u64 * 5,
        cpu_us: Some(1e6 / rate),
    }
}

#[test]
fn table_has_medians_and_thickets_advantage() {
    let runs = |load: &'static str, v: Vec<Sample>| BTreeMap::from([(load, v)]);
    let rows = [
        Row {
            server: SERVERS[0],
            command: Some("target/release/examples/ws_echo --addr 127.0.0.1:PORT".into()),
            failed: None,
            runs: runs(
                "echo_32_c1",
                vec![
                    sample(30_000.0, Some(0.03)),
                    sample(36_000.0, Some(0.02)),
                    sample(33_000.0, Some(0.04)),
                ],
            ),
        },
        Row {
            server: SERVERS[1],
            command: None,
            failed: Some("round 2: echo, 32 B, 1 connection: boom\nmore".into()),
            runs: runs("echo_32_c1", vec![sample(20_000.0, Some(0.06))]),
        },
    ];
    let ctx = Context {
        date: "2026-11-23".into(),
        quick: false,
        machine: json!({ "cpu": "EPYC", "cores": 2 }),
        tools: json!({ "rustc": "rustc 1.95.0" }),
    };
    let section = json(&rows, Plan::FULL, &ctx, Path::new("/nonexistent"));
    assert_eq!(
        section["results"]["echo_32_c1"]["thicket"]["messages_per_sec"]["median"],
        33_000.0
    );
    assert_eq!(
        section["ratios"]["echo_32_c1"]["tungstenite"]["messages_per_sec"],
        1.65
    );
    assert_eq!(
        section["ratios"]["echo_32_c1"]["tungstenite"]["p50_ms"],
        2.0
    );
    let text = render(&json!({ "ws": section })).unwrap();
    let table: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with('|'))
        .take(5)
        .collect();
    assert_eq!(
        table,
        [
            "| load | thicket | tokio-tungstenite | thicket / tokio-tungstenite |",
            "|---|---:|---:|---:|",
            "| echo, 32 B, 1 connection: round trips/s | 33,000 | 20,000 | 1.65x |",
            "| echo, 32 B, 1 connection: p50 | 30 µs | 60 µs | 2.00x |",
            "| echo, 32 B, 1 connection: p99 | 60 µs | 120 µs | 2.00x |",
        ]
    );
    assert!(
        text.contains("| stream, 32 B, 1 connection: messages/s | n/a | n/a | n/a |"),
        "{text}"
    );
    assert!(
        text.contains("    failed: round 2: echo, 32 B, 1 connection: boom\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "| echo, 32 B, 1 connection: server CPU per message | 30.3 µs | 50.0 µs | 1.65x |"
        ),
        "{text}"
    );
    assert!(
        text.contains("Reproduce with `cargo xtask bench --only ws`."),
        "{text}"
    );
    assert!(render(&json!({ "http": {} })).is_none());
}

#[test]
fn latencies_read_well() {
    assert_eq!(latency(0.0246), "25 µs");
    assert_eq!(latency(0.999), "999 µs");
    assert_eq!(latency(4.5), "4.50 ms");
    assert_eq!(latency(1_680.0), "1.68 s");
}

#[test]
fn servers_take_turns_leading() {
    assert_eq!(round_order(2, 0), [0, 1]);
    assert_eq!(round_order(2, 1), [1, 0]);
    assert_eq!(round_order(1, 1), [0]);
}
