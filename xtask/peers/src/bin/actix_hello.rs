//! HTTP hello-world peer: actix-web 4 (default features off), for `cargo xtask bench`.
//!
//! `actix_hello --addr 127.0.0.1:PORT [--threads N]`: N actix workers (each a thread with
//! its own single-threaded runtime), any path and method. Runs until killed.

#![forbid(unsafe_code)]

use actix_web::{web, App, HttpResponse, HttpServer};
use thicket_peers::hello::{Args, BODY};

async fn hello() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body(BODY)
}

fn main() -> std::io::Result<()> {
    let args = Args::from_env("actix_hello", &[]);
    actix_web::rt::System::new().block_on(
        HttpServer::new(|| App::new().default_service(web::to(hello)))
            .workers(args.threads)
            .disable_signals()
            .bind(args.addr)?
            .run(),
    )
}
