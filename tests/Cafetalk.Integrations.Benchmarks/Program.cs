using BenchmarkDotNet.Running;

// `-- --filter '*' --job short` runs every benchmark; `--list flat` names them.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
