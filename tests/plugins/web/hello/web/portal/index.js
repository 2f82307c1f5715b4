// The test-only module's customer page (tests/e2e/build-web.test.mjs).
import { h, t } from '@destek/portal';

export const pages = [{
  path: '/hello/{name}',
  page: ({ params }) => ({
    title: () => t('hello.title'),
    view: () => h('h1', { id: 'hello-title' }, t('hello.greet', { name: params.name })),
    takeFocus: () => null,
  }),
}];
