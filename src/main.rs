use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = concord::cli::Cli::parse();
    concord::cli::init_tracing(&cli.config);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(concord::cli::run(cli))
}
