using Xunit.Abstractions;
using Xunit.Sdk;

namespace ReaSeq.Tests.VectorStores;

/// <summary>
/// A test of a shared contract suite. It runs for every concrete subclass, and is reported as skipped for a
/// subclass marked <see cref="RequiresEnvironmentVariableAttribute"/> when that variable is not set
/// (a plain [Fact] on an inherited method cannot know which subclass it runs for).
/// </summary>
[XunitTestCaseDiscoverer("ReaSeq.Tests.VectorStores.ContractFactDiscoverer", "ReaSeq.Tests")]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ContractFactAttribute : FactAttribute
{
}

/// <summary>The contract tests of the marked class need a server given by this environment variable.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class RequiresEnvironmentVariableAttribute(string variable, string purpose) : Attribute
{
    public string Variable { get; } = variable;

    public string Purpose { get; } = purpose;
}

public sealed class ContractFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(
        ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var display = discoveryOptions.MethodDisplayOrDefault();
        var displayOptions = discoveryOptions.MethodDisplayOptionsOrDefault();
        var requirement = testMethod.TestClass.Class
            .GetCustomAttributes(typeof(RequiresEnvironmentVariableAttribute)).FirstOrDefault();
        if (requirement is not null)
        {
            var variable = requirement.GetNamedArgument<string>(nameof(RequiresEnvironmentVariableAttribute.Variable));
            var purpose = requirement.GetNamedArgument<string>(nameof(RequiresEnvironmentVariableAttribute.Purpose));
            if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(variable)))
            {
                return [new SkippedTestCase(diagnosticMessageSink, display, displayOptions, testMethod,
                    $"{variable} is not set: {purpose}")];
            }
        }

        return [new XunitTestCase(diagnosticMessageSink, display, displayOptions, testMethod)];
    }
}

/// <summary>An xunit test case that reports itself skipped with a reason decided at discovery.</summary>
public sealed class SkippedTestCase : XunitTestCase
{
    private string _reason = "";

    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippedTestCase()
    {
    }

    public SkippedTestCase(
        IMessageSink diagnosticMessageSink, TestMethodDisplay display, TestMethodDisplayOptions displayOptions,
        ITestMethod testMethod, string reason)
        : base(diagnosticMessageSink, display, displayOptions, testMethod)
    {
        _reason = reason;
    }

    protected override string GetSkipReason(IAttributeInfo factAttribute) => _reason;

    public override void Serialize(IXunitSerializationInfo data)
    {
        base.Serialize(data);
        data.AddValue("SkipReasonText", _reason);
    }

    public override void Deserialize(IXunitSerializationInfo data)
    {
        _reason = data.GetValue<string>("SkipReasonText");
        base.Deserialize(data);
    }
}

/// <summary>A Qdrant-only test: skipped, with the reason, unless QDRANT_URL names a server.</summary>
public sealed class QdrantFactAttribute : FactAttribute
{
    public const string UrlVariable = "QDRANT_URL";

    public QdrantFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(UrlVariable)))
        {
            Skip = $"{UrlVariable} is not set: these tests need a Qdrant server's gRPC endpoint, e.g. http://localhost:6334.";
        }
    }
}
