-- Independent codebooks (each coder invents their own codes, invisible to the
-- others until unblinding) or one shared codebook (applications still blind).
alter table projects
    add column codebook_mode text not null default 'independent',
    add constraint projects_codebook_mode_check check (codebook_mode in ('independent', 'shared'));
