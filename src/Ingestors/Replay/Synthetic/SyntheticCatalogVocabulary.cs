namespace ReaSeq.Ingestors.Replay.Synthetic;

/// <summary>One attribute of a primary category's schema, with its value vocabulary.</summary>
public sealed record AttributeSchema(string Name, IReadOnlyList<string> Values, bool InTitle);

/// <summary>Built-in vocabulary of the synthetic catalog: 8 primary categories × 4 sub-categories.</summary>
internal static class SyntheticCatalogVocabulary
{
    internal sealed record Primary(string Name, IReadOnlyList<AttributeSchema> Schema, IReadOnlyList<(string Noun, double BasePrice)> Subs);

    private static readonly string[] Colors = ["Red", "Blue", "Black", "White", "Green", "Grey", "Navy", "Beige"];

    // Title attributes appear in schema order, then the sub-category noun: "Red Cotton Slim-Fit T-Shirt".
    public static readonly IReadOnlyList<Primary> Primaries =
    [
        new("Apparel",
            [new("color", Colors, true), new("material", ["Cotton", "Linen", "Denim", "Wool", "Polyester", "Silk"], true),
             new("fit", ["Slim-Fit", "Regular-Fit", "Oversized", "Relaxed"], true), new("size", ["XS", "S", "M", "L", "XL"], false)],
            [("T-Shirt", 19), ("Jeans", 59), ("Dress", 69), ("Jacket", 119)]),
        new("Footwear",
            [new("color", Colors, true), new("material", ["Leather", "Suede", "Canvas", "Mesh", "Rubber"], true),
             new("style", ["Running", "Casual", "Hiking", "Formal"], true), new("size", ["37", "38", "39", "40", "41", "42", "43", "44"], false)],
            [("Sneakers", 79), ("Boots", 129), ("Sandals", 39), ("Loafers", 89)]),
        new("Home",
            [new("style", ["Scandinavian", "Vintage", "Modern", "Boho", "Rustic"], true), new("color", Colors, true),
             new("material", ["Ceramic", "Glass", "Wool", "Cotton", "Rattan", "Brass"], true),
             new("room", ["Living Room", "Bedroom", "Bathroom", "Hallway"], false)],
            [("Candle", 15), ("Cushion", 29), ("Lamp", 65), ("Rug", 149)]),
        new("Kitchen",
            [new("feature", ["Non-Stick", "Dishwasher-Safe", "Stackable", "Airtight"], true),
             new("material", ["Stainless Steel", "Cast Iron", "Ceramic", "Glass", "Bamboo"], true),
             new("size", ["Small", "Medium", "Large"], false), new("color", Colors, false)],
            [("Mug", 12), ("Frying Pan", 45), ("Chef Knife", 55), ("Storage Jar", 18)]),
        new("Electronics",
            [new("color", ["Black", "White", "Silver", "Blue", "Rose Gold"], true),
             new("feature", ["Noise-Cancelling", "Waterproof", "Fast-Charging", "Compact"], true),
             new("connectivity", ["Wireless", "USB-C", "Bluetooth", "Wi-Fi"], true), new("warranty", ["1 year", "2 years", "3 years"], false)],
            [("Headphones", 129), ("Speaker", 89), ("Charger", 25), ("Smartwatch", 199)]),
        new("Beauty",
            [new("benefit", ["Hydrating", "Matte", "Long-Lasting", "Volumizing", "Soothing"], true),
             new("scent", ["Vanilla", "Rose", "Citrus", "Lavender", "Unscented"], true),
             new("skin_type", ["Dry", "Oily", "Sensitive", "All Types"], false), new("volume", ["30 ml", "50 ml", "100 ml", "250 ml"], false)],
            [("Lipstick", 22), ("Moisturizer", 35), ("Perfume", 79), ("Shampoo", 14)]),
        new("Sports",
            [new("level", ["Beginner", "Training", "Pro", "Competition"], true), new("color", Colors, true),
             new("material", ["Rubber", "Neoprene", "Nylon", "Stainless Steel", "Cork"], true), new("size", ["Small", "Medium", "Large"], false)],
            [("Yoga Mat", 35), ("Dumbbell", 49), ("Running Shorts", 29), ("Water Bottle", 19)]),
        new("Toys",
            [new("theme", ["Dinosaur", "Space", "Ocean", "Farm", "Fairy Tale"], true),
             new("material", ["Wooden", "Plastic", "Cardboard", "Plush"], true),
             new("age", ["3+", "6+", "8+", "12+"], false), new("size", ["Small", "Medium", "Large"], false)],
            [("Puzzle", 19), ("Building Blocks", 39), ("Plush Toy", 24), ("Board Game", 34)]),
    ];
}
