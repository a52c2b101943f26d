-- State that belongs to a deployment lives in its database (issue 8 D13/D14, issue 10 §1, issue 13).

-- The deployment's identity: local folders (the embedded vector index) are keyed by it, so a fresh database never
-- meets files of an earlier deployment.
create table deployment (
    singleton  boolean primary key default true check (singleton),
    id         uuid not null default gen_random_uuid(),
    created_at timestamptz not null default now()
);
insert into deployment default values;

-- Trained models (RQ-VAE semantic-id tokenizer, IUI adapter), one row per version, and the current version per kind.
create table model_checkpoints (
    kind       text  not null,
    version    text  not null,
    body       bytea not null,
    meta       jsonb not null,
    created_at timestamptz not null default now(),
    primary key (kind, version)
);

create table current_models (
    kind       text primary key,
    version    text  not null,
    meta       jsonb not null,
    updated_at timestamptz not null default now(),
    foreign key (kind, version) references model_checkpoints (kind, version)
);

-- TIGER's final semantic-id level: an item's rank among the items that share its RQ-VAE codes under one model.
create table semantic_id_dedup (
    model_version text not null,
    prefix        text not null,
    item_id       text not null,
    rank          int  not null,
    primary key (model_version, item_id),
    unique (model_version, prefix, rank)
);

-- The encoder's vector beside the one consumed downstream (the IUI-adapted one when the adapter is on), and the adapter
-- version that made it ('' = the base vector itself).
alter table item_knowledge add column base_vector real[];
alter table item_knowledge add column adapter_version text not null default '';

-- Deleted items, so a vector store restored after a crash drops points whose rows are gone.
create table item_knowledge_tombstones (
    item_id    text primary key,
    deleted_at timestamptz not null default now()
);
