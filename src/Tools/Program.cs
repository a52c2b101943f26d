using ReaSeq.Host;
using ReaSeq.Tools;

return await ToolsCli.RunAsync(args);
