"""A version per user's OAuth token list, kept by PostgreSQL, for the list's response cache
(tokens.list_cache).

Statement triggers (one row-set per statement, however many rows it touches: a purge batch of
2 000 deletes makes one upsert) give every user whose tokens an INSERT, UPDATE or DELETE
touched a new value of one sequence, so a value never comes back for a user, whatever is
deleted or truncated. A change of a client's listed fields (client_id, name, URI, logo) does
the same for every user holding a token of that client. The upsert takes the users' rows in
user id order, so two statements never wait on each other crosswise. TRUNCATE of the tokens
drops every row: a user without a row is never served from the cache.
"""

from django.db import migrations, models


VERSIONS = "tokens_oauthtokenlistversion"
SEQUENCE = "tokens_oauthtokenlistversion_seq"

CREATE = [
    f"CREATE SEQUENCE {SEQUENCE}",
    f"""
CREATE FUNCTION tokens_oauth_token_list_bump(users varchar[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(users) > 0 THEN
        INSERT INTO {VERSIONS} AS v (user_id, version)
        SELECT u, nextval('{SEQUENCE}') FROM unnest(users) AS u
        ON CONFLICT (user_id) DO UPDATE SET version = EXCLUDED.version;
    END IF;
END $$""",
    """
CREATE FUNCTION tokens_oauth_token_list_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM tokens_oauth_token_list_bump(
            ARRAY(SELECT DISTINCT user_id FROM changed_after ORDER BY 1));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM tokens_oauth_token_list_bump(
            ARRAY(SELECT DISTINCT user_id FROM changed_before ORDER BY 1));
    ELSE
        PERFORM tokens_oauth_token_list_bump(ARRAY(
            SELECT user_id FROM changed_after UNION SELECT user_id FROM changed_before
            ORDER BY 1));
    END IF;
    RETURN NULL;
END $$""",
    """
CREATE FUNCTION tokens_oauth_client_list_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tokens_oauth_token_list_bump(ARRAY(
        SELECT DISTINCT t.user_id FROM tokens_oauthtoken t
        WHERE t.client_id IN (
            SELECT a.id FROM changed_after a JOIN changed_before b ON b.id = a.id
            WHERE (a.client_id, a.client_name, a.client_uri, a.logo_uri)
                IS DISTINCT FROM (b.client_id, b.client_name, b.client_uri, b.logo_uri))
        ORDER BY 1));
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION tokens_oauth_token_list_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {VERSIONS};
    RETURN NULL;
END $$""",
    "CREATE TRIGGER oauthtoken_list_inserted AFTER INSERT ON tokens_oauthtoken"
    " REFERENCING NEW TABLE AS changed_after"
    " FOR EACH STATEMENT EXECUTE FUNCTION tokens_oauth_token_list_changed()",
    "CREATE TRIGGER oauthtoken_list_updated AFTER UPDATE ON tokens_oauthtoken"
    " REFERENCING OLD TABLE AS changed_before NEW TABLE AS changed_after"
    " FOR EACH STATEMENT EXECUTE FUNCTION tokens_oauth_token_list_changed()",
    "CREATE TRIGGER oauthtoken_list_deleted AFTER DELETE ON tokens_oauthtoken"
    " REFERENCING OLD TABLE AS changed_before"
    " FOR EACH STATEMENT EXECUTE FUNCTION tokens_oauth_token_list_changed()",
    "CREATE TRIGGER oauthtoken_list_truncated AFTER TRUNCATE ON tokens_oauthtoken"
    " FOR EACH STATEMENT EXECUTE FUNCTION tokens_oauth_token_list_truncated()",
    "CREATE TRIGGER oauthclient_list_updated AFTER UPDATE ON consent_oauthclient"
    " REFERENCING OLD TABLE AS changed_before NEW TABLE AS changed_after"
    " FOR EACH STATEMENT EXECUTE FUNCTION tokens_oauth_client_list_changed()",
    f"INSERT INTO {VERSIONS} (user_id, version)"
    f" SELECT user_id, nextval('{SEQUENCE}') FROM (SELECT DISTINCT user_id FROM tokens_oauthtoken) u",
]
DROP = [
    "DROP TRIGGER oauthclient_list_updated ON consent_oauthclient",
    "DROP TRIGGER oauthtoken_list_truncated ON tokens_oauthtoken",
    "DROP TRIGGER oauthtoken_list_deleted ON tokens_oauthtoken",
    "DROP TRIGGER oauthtoken_list_updated ON tokens_oauthtoken",
    "DROP TRIGGER oauthtoken_list_inserted ON tokens_oauthtoken",
    "DROP FUNCTION tokens_oauth_token_list_truncated()",
    "DROP FUNCTION tokens_oauth_client_list_changed()",
    "DROP FUNCTION tokens_oauth_token_list_changed()",
    "DROP FUNCTION tokens_oauth_token_list_bump(varchar[])",
    f"DROP SEQUENCE {SEQUENCE}",
]


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0001_initial"),
        ("tokens", "0005_oauthtoken_list_indexes_case_folded"),
    ]

    operations = [
        migrations.CreateModel(
            name="OAuthTokenListVersion",
            fields=[
                ("user_id", models.CharField(max_length=24, primary_key=True, serialize=False)),
                ("version", models.BigIntegerField()),
            ],
        ),
        migrations.RunSQL(CREATE, reverse_sql=DROP),
    ]
