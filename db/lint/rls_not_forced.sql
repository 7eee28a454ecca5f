-- Ours: every table in app_public has RLS forced, so even its owner's queries (SECURITY DEFINER
-- functions owned by a non-superuser) go through the policies.
select 'rls_not_forced' as rule, 'ERROR' as level, c.oid::regclass::text as object,
       'table in app_public without FORCE ROW LEVEL SECURITY' as detail
  from pg_class c
 where c.relkind in ('r', 'p') and c.relnamespace = 'app_public'::regnamespace and not c.relforcerowsecurity;
