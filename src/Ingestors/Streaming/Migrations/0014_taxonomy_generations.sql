-- Issue 8 E17: a category's taxonomy is rebuilt as a new generation when its corpus has grown; every generation is kept
-- (items reasoned under an older one still name its version), and readers take the newest.
alter table taxonomies add column generation int not null default 1;
alter table taxonomies drop constraint taxonomies_pkey;
alter table taxonomies add primary key (category, prompt_version, backend, generation);
