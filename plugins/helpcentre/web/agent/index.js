// The help centre's part of the agents' app (plugins/README.md, "A module's screens and pages"): the articles list,
// the article editor with its preview, versions and publishing, the topics, the report, and "insert an article link"
// in ticketing's composer (its slot composer.tools) and macro form (its slot macro.tools).
import { ArticlesPage } from './articles.js';
import { EditorPage } from './editor.js';
import { ReportPage } from './report.js';
import { ArticleLink } from './link.js';
import { TopicsPage } from './topics.js';

export const routes = [
  { path: '/app/help', page: ArticlesPage },
  { path: '/app/help/new', page: EditorPage },
  { path: '/app/help/report', page: ReportPage },
  { path: '/app/help/topics', page: TopicsPage },
  { path: '/app/help/{id:int}', page: EditorPage },
];

export const nav = [{ id: 'help', href: '/app/help', label: 'helpcentre.nav', order: 40 }];

export const panels = [
  { slot: 'composer.tools', id: 'article_link', panel: ArticleLink, order: 10 },
  { slot: 'macro.tools', id: 'macro_article_link', panel: ArticleLink, order: 10 },
];

export const events = ['helpcentre.published'];

export const errors = { slug_taken: 'helpcentre.err_slug_taken' };
