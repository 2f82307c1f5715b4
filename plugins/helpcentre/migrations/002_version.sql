-- A version number of everything the public pages show (articles, their texts, categories): the pages' per-worker cache
-- (pages.lua) keeps a rendered page only while it is unchanged. Counters (views, votes) do not change it.
INSERT INTO helpcentre_counters(name, n) VALUES ('version', 1);
CREATE TRIGGER helpcentre_v_article_ins AFTER INSERT ON helpcentre_articles
  BEGIN UPDATE helpcentre_counters SET n = n + 1 WHERE name = 'version'; END;
CREATE TRIGGER helpcentre_v_article_upd AFTER UPDATE OF slug, category_id, position, status, publish_at, published_at,
  updated_at ON helpcentre_articles BEGIN UPDATE helpcentre_counters SET n = n + 1 WHERE name = 'version'; END;
CREATE TRIGGER helpcentre_v_article_del AFTER DELETE ON helpcentre_articles
  BEGIN UPDATE helpcentre_counters SET n = n + 1 WHERE name = 'version'; END;
CREATE TRIGGER helpcentre_v_text_ins AFTER INSERT ON helpcentre_article_texts
  BEGIN UPDATE helpcentre_counters SET n = n + 1 WHERE name = 'version'; END;
CREATE TRIGGER helpcentre_v_text_upd AFTER UPDATE ON helpcentre_article_texts
  BEGIN UPDATE helpcentre_counters SET n = n + 1 WHERE name = 'version'; END;
CREATE TRIGGER helpcentre_v_text_del AFTER DELETE ON helpcentre_article_texts
  BEGIN UPDATE helpcentre_counters SET n = n + 1 WHERE name = 'version'; END;
CREATE TRIGGER helpcentre_v_cat_ins AFTER INSERT ON helpcentre_categories
  BEGIN UPDATE helpcentre_counters SET n = n + 1 WHERE name = 'version'; END;
CREATE TRIGGER helpcentre_v_cat_upd AFTER UPDATE ON helpcentre_categories
  BEGIN UPDATE helpcentre_counters SET n = n + 1 WHERE name = 'version'; END;
CREATE TRIGGER helpcentre_v_cat_del AFTER DELETE ON helpcentre_categories
  BEGIN UPDATE helpcentre_counters SET n = n + 1 WHERE name = 'version'; END;
CREATE TRIGGER helpcentre_v_cattext_ins AFTER INSERT ON helpcentre_category_texts
  BEGIN UPDATE helpcentre_counters SET n = n + 1 WHERE name = 'version'; END;
CREATE TRIGGER helpcentre_v_cattext_upd AFTER UPDATE ON helpcentre_category_texts
  BEGIN UPDATE helpcentre_counters SET n = n + 1 WHERE name = 'version'; END;
CREATE TRIGGER helpcentre_v_cattext_del AFTER DELETE ON helpcentre_category_texts
  BEGIN UPDATE helpcentre_counters SET n = n + 1 WHERE name = 'version'; END;
