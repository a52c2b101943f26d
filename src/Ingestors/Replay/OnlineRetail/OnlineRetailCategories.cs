namespace ReaSeq.Ingestors.Replay.OnlineRetail;

/// <summary>
/// Online Retail has no categories. This derives a coarse primary category from the product description by
/// whole-word keywords, first matching category wins (so "JUMBO BAG 50'S CHRISTMAS" is Christmas, not Bags).
/// About 92% of the purchased products match; the rest get no category, which leaves them to the knowledge
/// processor's classification.
/// </summary>
public static class OnlineRetailCategories
{
    private static readonly (string Category, string[] Keywords)[] Rules =
    [
        ("Christmas", ["CHRISTMAS", "XMAS", "ADVENT", "SANTA", "REINDEER", "BAUBLE", "BAUBLES", "SNOWFLAKE", "NATIVITY"]),
        ("Bags", ["BAG", "BAGS", "TOTE", "PURSE", "SHOPPER", "BACKPACK", "RUCKSACK"]),
        ("Candles & Lighting", ["CANDLE", "CANDLES", "T-LIGHT", "TLIGHT", "T-LIGHTS", "LANTERN", "LIGHT", "LIGHTS", "LAMP",
            "LAMPSHADE", "INCENSE", "CANDLEHOLDER", "NIGHTLIGHT", "HLDR", "HOLDER"]),
        ("Kitchen & Dining", ["MUG", "MUGS", "CUP", "CUPS", "TEA", "TEACUP", "TEAPOT", "PLATE", "PLATES", "BOWL", "BOWLS",
            "CAKE", "CAKES", "BAKING", "LUNCH", "JAR", "JARS", "TIN", "TINS", "NAPKIN", "NAPKINS", "CUTLERY", "SPOON", "SPOONS",
            "TRAY", "COASTER", "COASTERS", "EGG", "BISCUIT", "JUG", "RECIPE", "APRON", "OVEN", "TOWEL", "BOTTLE", "GLASS",
            "GLASSES", "SAUCER", "CASES", "KITCHEN", "CHOPSTICKS", "PANTRY", "DISH", "BEAKER", "TUMBLER", "CAKESTAND",
            "SQUEEZER", "COOKIE", "CUTTER", "CUTTERS", "GOBLET", "FLASK", "SCALES", "TEATIME", "BREAD", "STRAWS", "PICNIC",
            "TEASPOONS", "DOILY", "DOILIES", "WATER"]),
        ("Stationery & Party", ["CARD", "CARDS", "WRAP", "PAPER", "NOTEBOOK", "NOTEBOOKS", "PEN", "PENS", "PENCIL", "PENCILS",
            "STICKER", "STICKERS", "PARTY", "BUNTING", "BALLOON", "BALLOONS", "STATIONERY", "TAG", "TAGS", "RIBBON", "RIBBONS",
            "CHALK", "ENVELOPE", "ENVELOPES", "DIARY", "CALENDAR", "NOTE", "NOTES", "POSTCARD", "ERASER", "RULER", "BOOK",
            "NOTEPAD", "INVITES", "CONFETTI", "SHARPENER", "CRAYONS", "JOURNAL", "PAD", "TISSUE", "TISSUES", "GIFT", "LABEL",
            "LABELS", "BIRTHDAY", "WEDDING"]),
        ("Jewellery & Accessories", ["NECKLACE", "NECKLAC", "NECKL", "BRACELET", "EARRINGS", "RING", "RINGS", "BROOCH", "HAIR",
            "CHARM", "KEYRING", "UMBRELLA", "SUNGLASSES", "SCARF", "GLOVES", "HAT", "BANGLE", "HAIRCLIP", "HAIRBAND", "SLIDES",
            "PIN", "JEWELLERY", "JEWELLED", "DIAMANTE", "HANDBAG", "COMPACT", "FOB", "WALLET", "PASSPORT", "EARMUFFS", "MUFF",
            "BEADS", "BEADED", "WATCH"]),
        ("Toys & Games", ["TOY", "TOYS", "GAME", "GAMES", "DOLL", "DOLLS", "JIGSAW", "PUZZLE", "PUZZLES", "SKIPPING", "TEDDY",
            "SOLDIER", "SPINNING", "BLOCKS", "COLOURING", "DOMINOES", "PLAYING", "SNAKES", "LADDERS", "MAGIC", "BINGO",
            "PLAYHOUSE", "CHILDRENS", "CHILDS", "KIDS", "DINOSAUR", "SPACEBOY", "RABBIT", "BUNNY", "ANIMAL", "MONKEY",
            "FELTCRAFT", "KNITTING", "CRAFT", "SEWING", "KIT", "MOBILE", "HORSE", "ROCKING", "MARBLES", "BALL", "PIRATE", "DUCK"]),
        ("Garden & Outdoor", ["GARDEN", "GARDENERS", "PLANT", "PLANTER", "WATERING", "BIRD", "BIRDHOUSE", "FEEDER", "SEED",
            "SEEDS", "FLOWERPOT", "POT", "POTS", "TROWEL", "GNOME", "WINDMILL", "PARASOL", "HAMMOCK", "DOORMAT", "MAT", "WREATH"]),
        ("Home Decor", ["FRAME", "SIGN", "CLOCK", "MIRROR", "CUSHION", "DOORSTOP", "HOOK", "HOOKS", "HANGER", "HANGERS",
            "DECORATION", "DECORATIONS", "GARLAND", "ORNAMENT", "VASE", "FLOWER", "FLOWERS", "BOX", "BOXES", "STORAGE", "DRAWER",
            "DRAWERS", "CABINET", "THROW", "PLAQUE", "ART", "HEART", "HEARTS", "BASKET", "BASKETS", "SHELF", "CHAIR", "STOOL",
            "QUILT", "BLANKET", "CURTAIN", "DOOR", "HANGING", "WICKER", "PHOTO", "WALL", "ROSE", "ROSES", "PICTURE", "BUTTERFLY",
            "CHANDELIER", "SPHERE", "BELL", "BELLS", "STAR", "TRINKET", "PAPERWEIGHT", "SOAP", "BATH", "BATHROOM", "WASHBAG",
            "DOORKNOB", "KNOB", "BIN", "LETTERS", "TABLE", "CUPBOARD", "RACK", "BUCKET", "DECORATIVE", "WOODEN", "FAN", "CHIME",
            "CHIMES", "PLANTS"]),
    ];

    private static readonly Dictionary<string, int> FirstRuleOfKeyword = BuildIndex();

    public static IReadOnlyList<string> Categories { get; } = [.. Rules.Select(r => r.Category)];

    /// <summary>The derived primary category of a description, or null when no keyword matches.</summary>
    public static string? Derive(string description)
    {
        var best = int.MaxValue;
        foreach (var token in Tokens(description.ToUpperInvariant()))
            if (FirstRuleOfKeyword.TryGetValue(token, out var rule) && rule < best) best = rule;
        return best == int.MaxValue ? null : Rules[best].Category;
    }

    // Words split on anything but letters, digits and hyphens; hyphenated words also count by their parts
    // ("T-LIGHT" matches T-LIGHT, "HEART-SHAPED" matches HEART).
    private static IEnumerable<string> Tokens(string text)
    {
        foreach (var word in text.SplitWhere(static c => !(char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            if (word.Length == 0) continue;
            yield return word;
            if (word.Contains('-'))
                foreach (var part in word.Split('-', StringSplitOptions.RemoveEmptyEntries)) yield return part;
        }
    }

    private static Dictionary<string, int> BuildIndex()
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Rules.Length; i++)
            foreach (var keyword in Rules[i].Keywords) index.TryAdd(keyword, i);
        return index;
    }
}
