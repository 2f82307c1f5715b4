// Words the screens pick at run time, named whole so that the i18n check sees each key used.
export const STATUS = { draft: 'helpcentre.status_draft', scheduled: 'helpcentre.status_scheduled',
  published: 'helpcentre.status_published' };
export const LANG = { tr: 'helpcentre.lang_tr', en: 'helpcentre.lang_en' };
export const TILE = { views: 'helpcentre.r_views', searches: 'helpcentre.r_searches', helpful: 'helpcentre.r_helpful',
  suggested: 'helpcentre.r_suggested', deflections: 'helpcentre.r_deflections' };
