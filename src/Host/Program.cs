using ReaSeq.Host;

return await Cli.RunAsync(args);
