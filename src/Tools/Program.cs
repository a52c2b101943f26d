using ReaSeq.Tools;

return await ToolsCli.RunAsync(args);
