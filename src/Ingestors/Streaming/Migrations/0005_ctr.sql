-- Online CTR trainer (issue 10, paper §2.2, §4.2.4): the model registry, the GBR-augmented sequences the trainer has
-- seen, and the index that answers "clicks of this item before t" for point-in-time popularity.

-- One row per trained version. Exactly one row is 'active' (the one rankers serve); rollback moves 'active' back to
-- an older row and marks the newer ones 'rolled_back'. seq orders versions and is the ModelVersion.version number.
create table ctr_models (
    version     text        primary key,
    seq         bigint      not null unique,
    created_at  timestamptz not null default now(),
    checkpoint  bytea       not null,
    config      jsonb       not null,
    metrics     jsonb       not null,
    lineage     jsonb       not null,
    status      text        not null check (status in ('active', 'superseded', 'rolled_back'))
);
create unique index ctr_models_one_active on ctr_models ((true)) where status = 'active';

-- Augmented sequences (issue 7) as consumed from reaseq.augmented-sequences, kept per version so that a training
-- example uses the newest one strictly older than its impression.
create table ctr_augmented_sequences (
    user_id          text    not null,
    ts_ms            bigint  not null,
    sequence_version bigint  not null,
    model_version    text    not null,
    observed         text[]  not null,
    fill_positions   int[]   not null,
    fill_vectors     real[]  not null,
    primary key (user_id, ts_ms, sequence_version)
);

create index user_clicks_item_ts on user_clicks (item_id, ts_ms);
