-- Sequence role (issue 9 §1): deployment-wide gap sketches and frozen T per domain and epoch, and the global
-- collaborative model's versions.
create table sequence_gap_sketches (
    consumer_group text     not null,
    domain         text     not null,
    partition      int      not null,
    counts         bigint[] not null,
    total          bigint   not null,
    updated_at     timestamptz not null default now(),
    primary key (consumer_group, domain, partition)
);

-- First writer wins: once recorded, every partition, restart and replay uses the same T for (domain, epoch).
create table sequence_thresholds (
    consumer_group text    not null,
    domain         text    not null,
    epoch          bigint  not null,
    threshold_ms   bigint  not null,
    gaps           bigint  not null,
    data_driven    boolean not null,
    created_at     timestamptz not null default now(),
    primary key (consumer_group, domain, epoch)
);

create table sequence_models (
    consumer_group text   not null,
    version        bigint not null,
    clicks         bigint not null,
    items          int    not null,
    snapshot       bytea  not null,
    created_at     timestamptz not null default now(),
    primary key (consumer_group, version)
);
