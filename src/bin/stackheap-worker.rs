//! The paired A/B gate's worker: one build's gated rows, run on request of the supervisor
//! (`stackheap-ab run`), one sample at a time; the protocol is in `harness::worker`. Not meant to
//! be started by hand (it reads requests from stdin).

fn main() -> std::process::ExitCode {
    let stdin = std::io::stdin();
    match stackheap::harness::worker::serve(stdin.lock(), std::io::stdout().lock()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: stackheap-worker: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
