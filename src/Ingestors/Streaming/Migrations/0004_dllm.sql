-- The dllm role (issue 9 §3): labeled windows kept as training data, model versions with their checkpoints, and the
-- model version each input partition uses. pinned_until is written before a batch's outputs are delivered: records
-- below it may already have been published with model_version, so a replay keeps that version until it passes them.

-- The newest window per user that holds a self-supervised labeled position (Δ > θ, paper §3.2.1). Successive windows
-- of one user overlap almost entirely, so only the newest is kept: the table grows with users, not with clicks.
create table dllm_training_windows (
    deployment       text    not null,
    user_id          text    not null,
    sequence_version bigint  not null,
    items            text[]  not null,
    labeled          int[]   not null,
    gaps             int[]   not null,
    ts_ms            bigint  not null,
    updated_at       timestamptz not null default now(),
    primary key (deployment, user_id)
);

-- One row per trained version; every instance polls for a newer one and hot-loads it.
create table dllm_models (
    deployment       text    not null,
    version          bigint  not null,
    training_windows int     not null,
    steps            int     not null,
    metrics          jsonb   not null,
    checkpoint       bytea   not null,
    created_at       timestamptz not null default now(),
    primary key (deployment, version)
);

create table dllm_partition_models (
    consumer_group text   not null,
    topic          text   not null,
    partition      int    not null,
    model_version  bigint not null,
    pinned_until   bigint not null default 0,
    primary key (consumer_group, topic, partition)
);
