using ReaSeq.Contracts;
using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Replay;
using ReaSeq.Ingestors.Replay.OnlineRetail;
using ReaSeq.Tests.Infrastructure;
using R = ReaSeq.Ingestors.Replay.OnlineRetail.OnlineRetailRules;

namespace ReaSeq.Tests.Replay;

[Trait(Tier.Name, Tier.Integration)]
public sealed class OnlineRetailSourceTests
{
    private const string Header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";

    [Fact]
    public void Every_quirk_is_skipped_under_its_own_reason()
    {
        using var dir = new TempDir();
        var path = dir.Write("quirks.csv", Header +
            "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER ,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n" +
            "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER ,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n" + // duplicate
            "536365,POST,POSTAGE,1,2010-12-01 08:26:00,18,17850,United Kingdom\n" +
            "536366,gift_0001_10,Dotcomgiftshop Gift Voucher £10.00,1,2010-12-01 08:28:00,8.5,17851,United Kingdom\n" +
            "536366,DCGSSBOY,BOYS PARTY BAG,1,2010-12-01 08:28:00,3.29,17851,United Kingdom\n" +
            "536366,m,Manual,1,2010-12-01 08:28:00,1.0,17851,United Kingdom\n" +
            "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-6,2010-12-01 09:41:00,2.55,17850,United Kingdom\n" +
            "A563185,B,Adjust bad debt,1,2010-12-01 09:42:00,11062.06,,United Kingdom\n" +
            "536380,22139,check,-20,2010-12-01 09:43:00,0.0,,United Kingdom\n" +
            "536381,22140,\"BOX, RED\",0,2010-12-01 09:43:00,1.25,17852,United Kingdom\n" +
            "536382,22141,amazon,1,2010-12-01 09:44:00,0.0,17852,United Kingdom\n" +
            "536383,22142,JUMBO BAG RED RETROSPOT,10,2010-12-01 09:45:00,1.95,,United Kingdom\n" +
            "536384,85123A,CREAM HANGING HEART T-LIGHT HOLDER,6,2010-12-01 09:46:00,2.95,17853,France\n" +
            "536385,85123A,CREAM HANGING HEART T-LIGHT HOLDER,12,2010-12-01 09:47:00,2.55,17854,France\n");
        var source = new OnlineRetailSource(path, new OnlineRetailOptions { NegativesPerPurchase = 0 });
        var records = source.Read().ToList();

        Assert.Equal(new Dictionary<string, long>
        {
            [R.Adjustment] = 1,
            [R.Cancellation] = 1,
            ["duplicate_row"] = 1,
            ["missing_user"] = 1,
            [R.NonPositivePrice] = 1,
            [R.NonPositiveQuantity] = 2,
            [R.NonProductCode] = 4,
        }, source.Stats.Skipped);
        Assert.Equal(14, source.Stats.Read);
        Assert.Equal(3, source.Stats.ClicksEmitted);

        // One item update for the new code, one for the renamed description; the price-only change publishes none.
        var items = records.OfType<ReplayItem>().Select(r => r.Item).ToList();
        Assert.Equal(["WHITE HANGING HEART T-LIGHT HOLDER", "CREAM HANGING HEART T-LIGHT HOLDER"], items.Select(i => i.Title));
        Assert.All(items, i => Assert.Equal(2.55, i.Price));
        Assert.All(items, i => Assert.Equal(["Candles & Lighting"], i.CategoryPath));
        Assert.All(items, i => Assert.Equal("GBP", i.Attributes["currency"]));

        var clicks = records.OfType<ReplayClick>().Select(r => r.Click).ToList();
        Assert.All(clicks, c => Assert.Equal(ClickAction.BUY, c.Action));
        Assert.Equal(new Dictionary<string, string> { ["invoice"] = "536384", ["quantity"] = "6", ["country"] = "France" }, clicks[1].Context);
        Assert.Equal(1_291_191_960_000L, clicks[0].TsMs);
    }

    [Fact]
    public void Derived_category_can_stay_out_of_the_category_path()
    {
        using var dir = new TempDir();
        var path = dir.Write("one.csv", Header + "536365,22423,REGENCY CAKESTAND 3 TIER,2,2010-12-01 08:26:00,12.75,17850,United Kingdom\n");
        var item = new OnlineRetailSource(path, new OnlineRetailOptions { DerivedCategoryAsPath = false }).Read().OfType<ReplayItem>().Single().Item;
        Assert.Empty(item.CategoryPath);
        Assert.Equal("Kitchen & Dining", item.Attributes["derived_category"]);
    }

    [Theory]
    [InlineData("JUMBO BAG 50'S CHRISTMAS ", "Christmas")]
    [InlineData("LUNCH BAG RED RETROSPOT", "Bags")]
    [InlineData("WHITE HANGING HEART T-LIGHT HOLDER", "Candles & Lighting")]
    [InlineData("PACK OF 72 RETROSPOT CAKE CASES", "Kitchen & Dining")]
    [InlineData("HEART-SHAPED MIRROR", "Home Decor")]
    [InlineData("HERB MARKER BASIL", null)]
    public void Categories_are_derived_from_whole_words_first_rule_wins(string description, string? expected) =>
        Assert.Equal(expected, OnlineRetailCategories.Derive(description));

    [OnlineRetailFact]
    public void Sample_file_replays_exactly_the_reference_purchases()
    {
        var source = new OnlineRetailSource(OnlineRetailFiles.Sample, new OnlineRetailOptions { NegativesPerPurchase = 0 });
        var clicks = source.Read().OfType<ReplayClick>().Select(r => r.Click).ToList();
        var expected = OnlineRetailReference.Purchases(OnlineRetailFiles.Sample);

        Assert.Equal(expected.Select(p => (p.UserId, p.ItemId, p.TsMs, p.Invoice)),
            clicks.Select(c => (c.UserId, c.ItemId, c.TsMs, c.Context["invoice"])));
        Assert.Equal(2000, source.Stats.Read);
        // Quirks present in the first 2,000 rows (the file has no adjustment or non-cancellation negative quantity there).
        Assert.True(source.Stats.SkippedFor(R.Cancellation) > 0);
        Assert.True(source.Stats.SkippedFor(R.NonProductCode) > 0);
        Assert.True(source.Stats.SkippedFor(R.NonPositivePrice) > 0);
        Assert.True(source.Stats.SkippedFor("missing_user") > 0);
        Assert.True(source.Stats.SkippedFor("duplicate_row") > 0);
        Assert.Equal(source.Stats.Read, source.Stats.ClicksEmitted + source.Stats.SkippedTotal);
    }

    [OnlineRetailFact]
    public void Sample_file_items_precede_their_clicks_and_all_records_pass_contract_validation()
    {
        var validator = new ContractValidator(new ContractLimits());
        var published = new HashSet<string>();
        long lastTs = 0;
        foreach (var record in new OnlineRetailSource(OnlineRetailFiles.Sample).Read())
        {
            Assert.True(record.TsMs >= lastTs, "records must be in event-time order");
            lastTs = record.TsMs;
            switch (record)
            {
                case ReplayItem i: validator.Validate(i.Item); published.Add(i.Item.ItemId); Assert.Equal(i.Item.ItemId, i.Key); break;
                case ReplayClick c: validator.Validate(c.Click); Assert.Contains(c.Click.ItemId, published); Assert.Equal(c.Click.UserId, c.Key); break;
                case ReplayImpression m: validator.Validate(m.Impression); Assert.Contains(m.Impression.ItemId, published); break;
            }
        }
        Assert.NotEmpty(published);
    }

    [OnlineRetailFact]
    public void Sample_file_ids_are_identical_across_runs_and_unique()
    {
        static List<string> Ids(OnlineRetailSource s) => [.. s.Read().Select(r => r switch
        {
            ReplayClick c => c.Click.EventId,
            ReplayImpression i => $"{i.Impression.ImpressionId}:{i.Impression.ItemId}",
            ReplayItem i => $"{i.Item.ItemId}:{i.Item.Title}",
            _ => "",
        })];
        var first = Ids(new OnlineRetailSource(OnlineRetailFiles.Sample));
        var second = Ids(new OnlineRetailSource(OnlineRetailFiles.Sample));
        Assert.Equal(first, second);
        var eventAndImpressionIds = first.Where(id => id.StartsWith("or-", StringComparison.Ordinal)).ToList();
        Assert.Equal(eventAndImpressionIds.Count, eventAndImpressionIds.Distinct().Count());
        var otherSeed = Ids(new OnlineRetailSource(OnlineRetailFiles.Sample, new OnlineRetailOptions { Seed = 99 }));
        Assert.NotEqual(first, otherSeed); // negatives depend on the seed, ids and purchases do not
        Assert.Equal(first.Where(id => id.StartsWith("or-") && !id.Contains(':')), otherSeed.Where(id => id.StartsWith("or-") && !id.Contains(':')));
    }

    [OnlineRetailFact]
    public void Sample_file_impressions_are_one_positive_and_n_negatives_outside_the_invoice()
    {
        const int negativesPerPurchase = 4;
        var source = new OnlineRetailSource(OnlineRetailFiles.Sample, new OnlineRetailOptions { NegativesPerPurchase = negativesPerPurchase });
        var records = source.Read().ToList();
        var clicks = records.OfType<ReplayClick>().Select(r => r.Click).ToList();
        var invoiceItems = clicks.GroupBy(c => c.Context["invoice"]).ToDictionary(g => g.Key, g => g.Select(c => c.ItemId).ToHashSet());
        var impressions = records.OfType<ReplayImpression>().Select(r => r.Impression).ToLookup(i => i.ImpressionId[..i.ImpressionId.LastIndexOf('-')]);

        var full = 0;
        foreach (var click in clicks)
        {
            var group = impressions[click.EventId].ToList();
            var positive = Assert.Single(group, i => i.Label == 1);
            Assert.Equal(click.ItemId, positive.ItemId);
            var negatives = group.Where(i => i.Label == 0).ToList();
            Assert.InRange(negatives.Count, 0, negativesPerPurchase);
            if (negatives.Count == negativesPerPurchase) full++;
            Assert.Equal(negatives.Count, negatives.Select(n => n.ItemId).Distinct().Count());
            Assert.All(negatives, n => Assert.DoesNotContain(n.ItemId, invoiceItems[click.Context["invoice"]]));
            Assert.All(group, i => Assert.Equal((click.UserId, click.TsMs), (i.UserId, i.TsMs)));
        }
        // Only the first invoices lack history; afterwards every purchase gets its full set.
        Assert.True(full > clicks.Count * 0.95, $"{full} of {clicks.Count} purchases got {negativesPerPurchase} negatives");
        Assert.Equal(clicks.Count * (1 + negativesPerPurchase) - source.Stats.SkippedFor("negative_shortfall"), source.Stats.ImpressionsEmitted);
    }

    /// <summary>
    /// The whole file: 541,909 rows. The README's purchases-only view (customer present, not C, quantity &gt; 0,
    /// price &gt; 0) has 397,884 rows; the non-product-code filter removes 1,547 more of them (POST 1,099, M 284,
    /// C2 133, DOT 16, BANK CHARGES 12, PADS 3) → 396,337 purchase lines; 5,189 of those repeat an earlier line of the
    /// same invoice with the same code, quantity, time and price → 391,148 purchase events.
    /// </summary>
    [OnlineRetailFact(needsFullFile: true)]
    public void Full_file_replays_391148_purchases_matching_the_reference_sequences()
    {
        var source = new OnlineRetailSource(OnlineRetailFiles.Full);
        var sequences = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var impressionItemsKnown = true;
        var items = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in source.Read())
        {
            switch (record)
            {
                case ReplayItem i: items.Add(i.Item.ItemId); break;
                case ReplayClick c:
                    if (!sequences.TryGetValue(c.Click.UserId, out var list)) sequences[c.Click.UserId] = list = [];
                    list.Add(c.Click.ItemId);
                    break;
                case ReplayImpression m: impressionItemsKnown &= items.Contains(m.Impression.ItemId); break;
            }
        }

        var stats = source.Stats;
        Assert.Equal(541_909, stats.Read);
        Assert.Equal(391_148, stats.ClicksEmitted);
        Assert.Equal(new Dictionary<string, long>
        {
            [R.Adjustment] = 3,
            [R.Cancellation] = 9_288,
            ["duplicate_row"] = 5_189,
            ["missing_user"] = 131_388,
            [R.NonPositivePrice] = 1_179,
            [R.NonPositiveQuantity] = 1_336,
            [R.NonProductCode] = 2_378,
        }, stats.Skipped.Where(p => p.Key != "negative_shortfall").ToDictionary());
        Assert.Equal(stats.Read, stats.ClicksEmitted + stats.SkippedTotal - stats.SkippedFor("negative_shortfall"));
        Assert.Equal(3_659, items.Count);
        Assert.Equal(3_659 + 1_469, stats.ItemsEmitted); // new codes + description changes
        Assert.True(impressionItemsKnown);
        Assert.Equal(stats.ClicksEmitted * 5 - stats.SkippedFor("negative_shortfall"), stats.ImpressionsEmitted);

        var expected = OnlineRetailReference.ExpectedClickSequences(OnlineRetailFiles.Full);
        Assert.Equal(4_334, expected.Count);
        Assert.Equal(expected.Keys.Order(), sequences.Keys.Order());
        foreach (var (user, items1) in expected) Assert.Equal(items1, sequences[user]);
    }
}
