using System.ComponentModel.DataAnnotations;

namespace ReaSeq.Contracts.Validation;

/// <summary>
/// Lets options whose rules span several fields keep one <c>Validate()</c> method that throws (their constructors and
/// tools call it directly) and still report through data-annotation validation, the platform's one options pattern
/// (bound, validated at start with <c>ValidateDataAnnotations().ValidateOnStart()</c>).
/// </summary>
public static class OptionsValidation
{
    public static IEnumerable<ValidationResult> Results(Action validate)
    {
        try
        {
            validate();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return [new ValidationResult(e.Message)];
        }
        return [];
    }
}
