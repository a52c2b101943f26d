namespace ReaSeq.Processors.Knowledge.Taxonomy;

/// <summary>Layers 1-2 run once per (category, prompt version, backend); this is that identity.</summary>
public readonly record struct TaxonomyCacheKey(string Category, string PromptVersion, string BackendName)
{
    public static TaxonomyCacheKey For(CategoryPath category, string promptVersion, string backendName) =>
        new(category.ToString(), promptVersion, backendName);

    public override string ToString() => $"{BackendName}/{PromptVersion}/{Category}";
}
