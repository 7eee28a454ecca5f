-- splinter 0003 auth_rls_initplan: a policy that calls current_user_id() or current_setting() bare
-- evaluates it once per row; wrapped as (select ...) it is one InitPlan per query.
select 'rls_initplan' as rule, 'WARN' as level, pol.polrelid::regclass::text || ' policy ' || pol.polname as object,
       'calls current_user_id()/current_setting() per row: wrap it in (select ...)' as detail
  from pg_policy pol
  join pg_class c on c.oid = pol.polrelid
 where c.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
   and exists (
     select 1 from unnest(array[pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, pol.polrelid)]) e(expr)
      where regexp_replace(e.expr, '\( SELECT app_public\.current_user_id\(\) AS current_user_id\)', '', 'g')
            ~ '(current_user_id|current_setting)\(');
