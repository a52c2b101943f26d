using ReaSeq.Contracts;
using ReaSeq.Ingestors.Replay;
using ReaSeq.Ingestors.Replay.Csv;

namespace ReaSeq.Tests.Replay;

public sealed class CsvInteractionSourceTests
{
    private const string Mapping = "user=user,item=item,ts=time,title=name,price=price,category=cat,ctx.page=page,attr.brand=brand";
    private const string Header = "user,item,time,name,price,cat,page,brand\n";

    [Fact]
    public void Item_updates_come_before_the_first_click_and_on_title_or_price_change_only()
    {
        using var dir = new TempDir();
        var path = dir.Write("c.csv", Header +
            "u1,i1,1700000000,Red Mug ,2.5,Kitchen > Mugs,home,Acme\n" +
            "u2,i1,1700000060,Red Mug,2.5,Kitchen > Mugs,home,Acme\n" +      // same trimmed title and price: no update
            "u1,i1,1700000120,Red Mug,3.0,Kitchen > Mugs,home,Acme\n" +      // price change
            "u3,i1,1700000180,Crimson Mug,3.0,Kitchen > Mugs,search,Acme\n"); // title change
        var records = new CsvInteractionSource(path, Mapping).Read().ToList();

        Assert.Equal(["item", "click", "click", "item", "click", "item", "click"], records.Select(Kind));
        var first = ((ReplayItem)records[0]).Item;
        Assert.Equal(("i1", "Red Mug", 2.5, 1_700_000_000_000L), (first.ItemId, first.Title, first.Price, first.TsMs));
        Assert.Equal(["Kitchen", "Mugs"], first.CategoryPath);
        Assert.Equal("Acme", first.Attributes["brand"]);
        Assert.Equal(3.0, ((ReplayItem)records[3]).Item.Price);
        Assert.Equal("Crimson Mug", ((ReplayItem)records[5]).Item.Title);
        var lastClick = ((ReplayClick)records[6]).Click;
        Assert.Equal(("u3", "i1", ClickAction.CLICK, "search"), (lastClick.UserId, lastClick.ItemId, lastClick.Action, lastClick.Context["page"]));
    }

    [Fact]
    public void Price_changes_can_be_ignored()
    {
        using var dir = new TempDir();
        var path = dir.Write("c.csv", Header + "u1,i1,1700000000,Mug,2.5,,,\nu1,i1,1700000001,Mug,3.0,,,\n");
        var records = new CsvInteractionSource(path, Mapping, new CsvReplayOptions { ItemUpdateOnPriceChange = false }).Read().ToList();
        Assert.Equal(["item", "click", "click"], records.Select(Kind));
        Assert.Empty(((ReplayItem)records[0]).Item.CategoryPath);
    }

    [Fact]
    public void Bad_rows_are_skipped_and_counted_by_reason()
    {
        using var dir = new TempDir();
        var path = dir.Write("c.csv", "user,item,time,price,action\n" +
            "u1,i1,2024-01-01 00:00:00,1,view\n" +
            ",i1,2024-01-01 00:00:01,1,view\n" +
            "u1, ,2024-01-01 00:00:02,1,view\n" +
            "u1,i1,not a time,1,view\n" +
            "u1,i1,2024-01-01 00:00:03,cheap,view\n" +
            "u1,i1,2024-01-01 00:00:04,-1,view\n" +
            "u1,i1,2024-01-01 00:00:05,1,wishlist\n" +
            "u1,i1,2024-01-01 00:00:06\n" +
            "\n" +
            "u1,i2,2024-01-01 00:00:07,,purchase\n");
        var source = new CsvInteractionSource(path, "user=user,item=item,ts=time,price=price,action=action");
        var clicks = source.Read().OfType<ReplayClick>().Select(c => c.Click).ToList();

        Assert.Equal([ClickAction.CLICK, ClickAction.BUY], clicks.Select(c => c.Action));
        Assert.Equal(10, source.Stats.Read);
        Assert.Equal(new Dictionary<string, long>
        {
            ["bad_price"] = 2,
            ["bad_timestamp"] = 1,
            ["blank_line"] = 1,
            ["malformed_row"] = 1,
            ["missing_item"] = 1,
            ["missing_user"] = 1,
            ["unknown_action"] = 1,
        }, source.Stats.Skipped);
        Assert.Equal(source.Stats.Read, source.Stats.ClicksEmitted + source.Stats.SkippedTotal);
    }

    [Fact]
    public void Items_without_a_title_are_named_by_their_id()
    {
        using var dir = new TempDir();
        var path = dir.Write("c.csv", "u,i,t\nu1,i9,1700000000\n");
        var item = new CsvInteractionSource(path, "user=u,item=i,ts=t").Read().OfType<ReplayItem>().Single().Item;
        Assert.Equal("i9", item.Title);
        Assert.Null(item.Price);
    }

    [Fact]
    public void Event_ids_are_stable_across_runs_and_distinct_for_repeated_identical_rows()
    {
        using var dir = new TempDir();
        var path = dir.Write("c.csv", "u,i,t\nu1,i1,1700000000\nu1,i1,1700000000\nu2,i1,1700000005\n");
        var first = new CsvInteractionSource(path, "user=u,item=i,ts=t").Read().OfType<ReplayClick>().Select(c => c.Click.EventId).ToList();
        var second = new CsvInteractionSource(path, "user=u,item=i,ts=t").Read().OfType<ReplayClick>().Select(c => c.Click.EventId).ToList();
        Assert.Equal(3, first.Distinct().Count());
        Assert.Equal(first, second);
        Assert.All(first, id => Assert.StartsWith("csv-", id));
    }

    [Fact]
    public void A_mapped_event_column_supplies_the_ids()
    {
        using var dir = new TempDir();
        var path = dir.Write("c.csv", "id,u,i,t\nevt-1,u1,i1,1700000000\n");
        var click = new CsvInteractionSource(path, "event=id,user=u,item=i,ts=t").Read().OfType<ReplayClick>().Single().Click;
        Assert.Equal("evt-1", click.EventId);
    }

    [Fact]
    public void Unsorted_files_fail_with_the_line_unless_sorting_is_enabled()
    {
        using var dir = new TempDir();
        var path = dir.Write("c.csv", "u,i,t\nu1,a,1700000100\nu1,b,1700000000\nu2,c,1700000100\n");
        var error = Assert.Throws<CsvFormatException>(() => new CsvInteractionSource(path, "user=u,item=i,ts=t").Read().ToList());
        Assert.Contains("line 3", error.Message);
        Assert.Contains("not in time order", error.Message);

        var sorted = new CsvInteractionSource(path, "user=u,item=i,ts=t", new CsvReplayOptions { SortByTime = true })
            .Read().OfType<ReplayClick>().Select(c => c.Click.ItemId);
        Assert.Equal(["b", "a", "c"], sorted); // stable: a before c at equal time
    }

    [Fact]
    public void A_mapping_that_does_not_fit_the_file_fails_at_construction()
    {
        using var dir = new TempDir();
        var path = dir.Write("c.csv", "InvoiceNo,StockCode,InvoiceDate\n1,a,1700000000\n");
        var error = Assert.Throws<ColumnMappingException>(() => new CsvInteractionSource(path, "user=CustomerID,item=StockCode,ts=InvoiceDate"));
        Assert.Contains("Column 'CustomerID' (mapped to user)", error.Message);
        Assert.Contains("InvoiceNo, StockCode, InvoiceDate", error.Message);
        Assert.Throws<FileNotFoundException>(() => new CsvInteractionSource(Path.Combine(dir.Path, "nope.csv"), "user=a,item=b,ts=c"));
        Assert.Throws<CsvFormatException>(() => new CsvInteractionSource(dir.Write("empty.csv", ""), "user=a,item=b,ts=c"));
    }

    [Fact]
    public void Gzip_input_replays_like_plain_input()
    {
        using var dir = new TempDir();
        const string text = "u,i,t,n\nu1,a,1700000000,\"Mug, red\"\nu2,b,1700000001,Cup\n";
        var plain = new CsvInteractionSource(dir.Write("p.csv", text), "user=u,item=i,ts=t,title=n").Read().Select(Describe).ToList();
        var gzip = new CsvInteractionSource(dir.WriteGzip("g.bin", text), "user=u,item=i,ts=t,title=n").Read().Select(Describe).ToList();
        Assert.Equal(4, plain.Count);
        Assert.Equal(plain, gzip);
        Assert.Contains("item a Mug, red", plain);
    }

    [Fact]
    public void Negatives_come_from_earlier_baskets_by_popularity_and_never_from_the_users_basket()
    {
        using var dir = new TempDir();
        var rows = new List<string> { "u,i,t,b" };
        // Warm-up: "pop" bought by many users, "rare" once; then user z buys pop and x in one basket.
        for (var k = 0; k < 30; k++) rows.Add($"w{k},pop,{1700000000 + k},B{k}");
        rows.Add("r,rare,1700000100,R");
        rows.Add("r,other,1700000101,R2");
        rows.Add("z,pop,1700000200,Z");
        rows.Add("z,x,1700000200,Z");
        var path = dir.Write("c.csv", string.Join('\n', rows) + "\n");
        var options = new CsvReplayOptions { NegativesPerPositive = 2, Seed = 3 };
        var source = new CsvInteractionSource(path, "user=u,item=i,ts=t,basket=b", options);
        var records = source.Read().ToList();

        var zImpressions = records.OfType<ReplayImpression>().Select(r => r.Impression).Where(i => i.UserId == "z").ToList();
        Assert.Equal(6, zImpressions.Count);
        Assert.Equal(2, zImpressions.Count(i => i.Label == 1));
        var negatives = zImpressions.Where(i => i.Label == 0).Select(i => i.ItemId).ToList();
        Assert.All(negatives, n => Assert.Contains(n, new[] { "rare", "other" }));
        Assert.All(zImpressions, i => Assert.Equal(1_700_000_200_000L, i.TsMs));

        // Warm-up baskets only know "pop", their own item: no negatives (2 missing each). Basket R has only "pop"
        // eligible (1 missing); R2 and Z have two eligible items. 30 × 2 + 1 = 61 missing negatives.
        Assert.Single(records.OfType<ReplayImpression>(), r => r.Impression.UserId == "w0");
        Assert.Equal(61, source.Stats.SkippedFor("negative_shortfall"));

        // Every impression item was published as an item before the impression.
        var published = new HashSet<string>();
        foreach (var r in records)
        {
            if (r is ReplayItem item) published.Add(item.Item.ItemId);
            if (r is ReplayImpression imp) Assert.Contains(imp.Impression.ItemId, published);
        }
        Assert.Equal(records.OfType<ReplayImpression>().Count(), records.OfType<ReplayImpression>().Select(i => i.Impression.ImpressionId).Distinct().Count());
    }

    [Fact]
    public void Popularity_sampler_draws_in_proportion_to_purchases()
    {
        var sampler = new PopularityNegativeSampler(11);
        for (var k = 0; k < 90; k++) sampler.Observe("hot");
        for (var k = 0; k < 10; k++) sampler.Observe("cold");
        var drawn = new List<string>();
        var none = new HashSet<string>();
        for (var k = 0; k < 2000; k++) sampler.Sample(1, none, drawn);
        var hotShare = drawn.Count(d => d == "hot") / (double)drawn.Count;
        Assert.InRange(hotShare, 0.85, 0.95);

        var both = new List<string>();
        Assert.Equal(2, sampler.Sample(5, none, both));
        Assert.Equal(["cold", "hot"], both.Order());
        Assert.Equal(0, sampler.Sample(3, new HashSet<string> { "hot", "cold" }, both));
    }

    private static string Kind(ReplayRecord r) => r switch
    {
        ReplayItem => "item",
        ReplayClick => "click",
        ReplayImpression => "impression",
        _ => "?",
    };

    private static string Describe(ReplayRecord r) => r switch
    {
        ReplayItem i => $"item {i.Item.ItemId} {i.Item.Title}",
        ReplayClick c => $"click {c.Click.EventId} {c.Click.UserId} {c.Click.ItemId} {c.Click.TsMs}",
        _ => r.ToString(),
    };
}
