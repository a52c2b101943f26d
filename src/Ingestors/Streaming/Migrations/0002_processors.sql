-- Knowledge processor output and sequence processor checkpoints.
create table item_knowledge (
    item_id              text primary key,
    content_hash         text    not null,
    category             text    not null,
    category_assigned    boolean not null,
    demand               jsonb   not null,
    attribute            jsonb   not null,
    vector               real[]  not null,
    semantic_id          int[]   not null,
    semantic_id_version  text    not null,
    taxonomy_version     text    not null,
    prompt_version       text    not null,
    backend              text    not null,
    encoder              text    not null,
    ts_ms                bigint  not null,
    updated_at           timestamptz not null default now()
);

create table taxonomies (
    category        text not null,
    prompt_version  text not null,
    backend         text not null,
    version         text not null,
    body            jsonb not null,
    created_at      timestamptz not null default now(),
    primary key (category, prompt_version, backend)
);

create table sequence_checkpoints (
    consumer_group text   not null,
    topic          text   not null,
    partition      int    not null,
    next_offset    bigint not null,
    snapshot       bytea  not null,
    updated_at     timestamptz not null default now(),
    primary key (consumer_group, topic, partition)
);
