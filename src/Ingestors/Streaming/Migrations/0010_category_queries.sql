-- Knowledge role (§2.1.1, layer 1): the search queries the demand agent reads, per primary category. weight is the
-- recency-weighted count Σ 2^(-(last_ts_ms - ts_i) / half-life) of the query's occurrences, referred to last_ts_ms, the
-- newest occurrence: a sum of decays to a common reference, so it does not depend on the order records arrive in.
create table category_queries (
    category   text             not null,
    query      text             not null,
    weight     double precision not null,
    last_ts_ms bigint           not null,
    primary key (category, query)
);
