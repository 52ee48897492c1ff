/*
 * Unit tests for hp_keymem: an entry answers for its own prefix and agent
 * header only, with its strings copied into the caller's pool, until its
 * time to live; a newer entry replaces an older one; forgetting removes it;
 * the creates made with remembered keys are counted, confirmed or refused.
 */
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_keymem.h"
#include "hp_unit.h"

static hp_key_row row(const char *key_id, const char *agent_id)
{
    hp_key_row k;

    memset(&k, 0, sizeof(k));
    k.key_id = key_id;
    k.team_id = "11111111-1111-4111-8111-111111111111";
    k.agent_id = agent_id;
    k.default_timeout_seconds = 300;
    k.default_timeout_mode = "expire";
    k.test_mode = true;
    memset(k.hash, 0xab, sizeof(k.hash));
    return k;
}

static void test_answers_own_entry_only(void)
{
    hp_keymem *m = hp_keymem_new(64, 1000);
    hp_pool *pool = hp_pool_new();
    char key_id[] = "22222222-2222-4222-8222-222222222222";
    hp_key_row k = row(key_id, "33333333-3333-4333-8333-333333333333"), out;
    hp_keymem_stats st;

    hp_keymem_put(m, "ABCDEFGHJKLM", NULL, &k, 100);
    key_id[0] = '9'; /* the entry keeps its own copy */
    CU_ASSERT_TRUE(hp_keymem_get(m, "ABCDEFGHJKLM", NULL, pool, &out, 150));
    CU_ASSERT_STRING_EQUAL(out.key_id, "22222222-2222-4222-8222-222222222222");
    CU_ASSERT_STRING_EQUAL(out.team_id, "11111111-1111-4111-8111-111111111111");
    CU_ASSERT_STRING_EQUAL(out.agent_id, "33333333-3333-4333-8333-333333333333");
    CU_ASSERT_STRING_EQUAL(out.default_timeout_mode, "expire");
    CU_ASSERT_PTR_NULL(out.key_agent_id);
    CU_ASSERT_PTR_NULL(out.default_timeout_instruction);
    CU_ASSERT_EQUAL(out.default_timeout_seconds, 300);
    CU_ASSERT_TRUE(out.test_mode);
    CU_ASSERT_EQUAL(out.hash[31], 0xab);
    /* Another prefix, or the same prefix with an agent header, is another key. */
    CU_ASSERT_FALSE(hp_keymem_get(m, "ABCDEFGHJKLN", NULL, pool, &out, 150));
    CU_ASSERT_FALSE(
        hp_keymem_get(m, "ABCDEFGHJKLM", "33333333-3333-4333-8333-333333333333", pool, &out, 150));
    hp_keymem_stats_get(m, &st);
    CU_ASSERT_EQUAL(st.hits, 0); /* finding an entry is not a create */
    hp_pool_free(pool);
    hp_keymem_free(m);
}

static void test_time_to_live(void)
{
    hp_keymem *m = hp_keymem_new(64, 1000);
    hp_pool *pool = hp_pool_new();
    hp_key_row k = row("22222222-2222-4222-8222-222222222222", NULL), out;

    hp_keymem_put(m, "ABCDEFGHJKLM", "", &k, 5000);
    CU_ASSERT_TRUE(hp_keymem_get(m, "ABCDEFGHJKLM", NULL, pool, &out, 5999));
    CU_ASSERT_FALSE(hp_keymem_get(m, "ABCDEFGHJKLM", NULL, pool, &out, 6000));
    /* A clock reading before the entry (never from a monotonic clock). */
    CU_ASSERT_FALSE(hp_keymem_get(m, "ABCDEFGHJKLM", NULL, pool, &out, 4999));
    hp_pool_free(pool);
    hp_keymem_free(m);
}

static void test_replace_and_forget(void)
{
    hp_keymem *m = hp_keymem_new(1, 1000); /* one slot: every entry shares it */
    hp_pool *pool = hp_pool_new();
    hp_key_row a = row("22222222-2222-4222-8222-222222222222", NULL);
    hp_key_row b = row("44444444-4444-4444-8444-444444444444", NULL), out;
    hp_keymem_stats st;

    hp_keymem_put(m, "AAAAAAAAAAAA", NULL, &a, 0);
    hp_keymem_put(m, "BBBBBBBBBBBB", NULL, &b, 0);
    CU_ASSERT_FALSE(hp_keymem_get(m, "AAAAAAAAAAAA", NULL, pool, &out, 1));
    CU_ASSERT_TRUE(hp_keymem_get(m, "BBBBBBBBBBBB", NULL, pool, &out, 1));
    CU_ASSERT_STRING_EQUAL(out.key_id, "44444444-4444-4444-8444-444444444444");
    /* Forgetting another key leaves the entry; its own removes it. */
    hp_keymem_forget(m, "AAAAAAAAAAAA", NULL);
    CU_ASSERT_TRUE(hp_keymem_get(m, "BBBBBBBBBBBB", NULL, pool, &out, 1));
    hp_keymem_forget(m, "BBBBBBBBBBBB", NULL);
    CU_ASSERT_FALSE(hp_keymem_get(m, "BBBBBBBBBBBB", NULL, pool, &out, 1));
    hp_keymem_count(m, true);
    hp_keymem_count(m, true);
    hp_keymem_count(m, false);
    hp_keymem_stats_get(m, &st);
    CU_ASSERT_EQUAL(st.hits, 2);
    CU_ASSERT_EQUAL(st.refused, 1);
    hp_pool_free(pool);
    hp_keymem_free(m);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"answers_own_entry_only", test_answers_own_entry_only},
        {"time_to_live", test_time_to_live},
        {"replace_and_forget", test_replace_and_forget},
        {NULL, NULL},
    };
    return hp_unit_main("hp_keymem", tests);
}
