-- The server role (trollcity_server, NOLOGIN, created by db/setup.sql and granted to authenticator):
-- what the server's group-commit batcher (web/src/server/write-batcher.ts) runs as. It may call the
-- batch write functions, which take the sender ids the server verified from each request's JWT, and
-- nothing else in app_private: every function it can execute is SECURITY DEFINER and granted below
-- or in its own file.
revoke all on schema app_private from trollcity_server;
grant usage on schema app_private to trollcity_server;
