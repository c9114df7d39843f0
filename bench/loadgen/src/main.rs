//! loadgen: a single-threaded WebSocket load generator for loopback echo servers.

mod args;
mod conn;
mod frames;
mod handshake;
mod modes;
mod stats;

use std::process::ExitCode;

use args::{Mode, Parsed};

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match args::parse(&argv) {
        Ok(Parsed::Run(a)) => a,
        Ok(Parsed::Help) => {
            print!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("loadgen: {e}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    conn::raise_nofile();
    let result = match args.mode {
        Mode::Echo | Mode::Latency => modes::echo::run(&args, args.mode.name()),
        Mode::Handshake => modes::handshake::run(&args),
        Mode::Idle => modes::idle::run(&args),
    };
    match result {
        Ok(line) => {
            if !line.is_empty() {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen: fatal: {e}");
            ExitCode::from(1)
        }
    }
}
