-- Platform spine: consumed offsets, item catalog, bounded per-user click sequences, labeled impressions.
create table consumer_offsets (
    consumer_group text    not null,
    topic          text    not null,
    partition      int     not null,
    next_offset    bigint  not null,
    updated_at     timestamptz not null default now(),
    primary key (consumer_group, topic, partition)
);

create table items (
    item_id        text primary key,
    title          text    not null,
    description    text    not null,
    category_path  text[]  not null,
    attributes     jsonb   not null,
    price          double precision,
    ts_ms          bigint  not null,
    deleted        boolean not null default false,
    updated_at     timestamptz not null default now()
);

create table user_clicks (
    user_id   text     not null,
    seq       bigint   not null,
    event_id  text     not null,
    item_id   text     not null,
    ts_ms     bigint   not null,
    action    smallint not null,
    -- The partition owning the user: a new owner loads its users with one scan (assignment is rare, appends are not).
    kafka_partition int not null,
    primary key (user_id, seq)
);

create table impressions (
    impression_id text primary key,
    user_id       text     not null,
    item_id       text     not null,
    ts_ms         bigint   not null,
    label         smallint not null,
    context       jsonb    not null
);
create index impressions_user_ts on impressions (user_id, ts_ms);
