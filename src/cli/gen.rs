//! `nudge gen`: realistic shop traffic as JSON lines on stdout.

use clap::Args;
use nudge_runtime::gen::{generate, GenConfig};
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Distinct shoppers.
    #[arg(long, default_value_t = 1000)]
    users: u32,
    /// Distinct products (ids p00001, p00002, ...).
    #[arg(long, default_value_t = 200)]
    products: u32,
    /// Events to write.
    #[arg(long, default_value_t = 10_000)]
    events: u64,
    /// Random seed: the same seed gives the same traffic.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Share of malformed records (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    bad_share: f64,
    /// Share of late records (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    late_share: f64,
}

pub fn gen(args: GenArgs) -> anyhow::Result<ExitCode> {
    if !(0.0..=1.0).contains(&args.bad_share) || !(0.0..=1.0).contains(&args.late_share) {
        anyhow::bail!("--bad-share and --late-share take a share between 0.0 and 1.0");
    }
    let cfg = GenConfig {
        users: args.users,
        products: args.products,
        events: args.events,
        seed: args.seed,
        bad_share: args.bad_share,
        late_share: args.late_share,
        ..GenConfig::default()
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = generate(&cfg, &mut out).and_then(|_| out.flush());
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A closed pipe (`nudge gen | head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}
