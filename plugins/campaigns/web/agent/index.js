// The campaigns module's part of the agents' app: the Campaigns page — campaigns with their results (who was skipped
// and why), a new campaign with its segment counted before it is saved, and the import of a consent list.
import { CampaignsPage } from './page.js';

export const routes = [{ path: '/app/campaigns', page: CampaignsPage }];

export const nav = [{ id: 'campaigns', href: '/app/campaigns', label: 'campaigns.nav', order: 70 }];

export const events = ['campaign.finished', 'campaign.started'];

export const errors = {
  already_sent: 'campaigns.err_already_sent',
  invalid_rows: 'campaigns.err_invalid_rows',
  no_consent: 'campaigns.err_no_consent',
};

// For admins, the banner while a coupon pool in use runs low (specialdays.js).
import { CouponBanner } from './specialdays.js';
export const panels = [{ slot: 'banner', id: 'coupons_low', panel: CouponBanner, order: 30, role: 'admin' }];
