/** The auth ticket Kibo issues when a user switches tenant. */
import { builder } from '../builder.js';
import type { KiboTicket } from '../kibo/types.js';
import { secondsUntil } from './scalars.js';
import { Tenant } from './tenant.js';
import { UserProfile } from './user-profile.js';

export const TenantAdminUserAuthTicket = builder.objectRef<KiboTicket>('TenantAdminUserAuthTicket').implement({
  description:
    'An admin user auth ticket for one tenant: the tokens to call Kibo with, and who and where they are for.',
  kiboPlaceholder: 'createdOn',
  fields: (t) => ({
    accessToken: t.exposeString('accessToken', {
      nullable: true,
      description: 'Opaque access token for Kibo API calls in this tenant.',
    }),
    accessTokenExpiration: t.expose('accessTokenExpiration', {
      type: 'DateTime',
      description: 'When the access token stops being accepted.',
    }),
    accessTokenExpiresIn: t.int({
      description:
        'Seconds until the access token expires (never negative), computed by the gateway when the field is read.',
      kiboRequires: ['accessTokenExpiration'],
      resolve: (ticket) => Math.max(0, secondsUntil(ticket.accessTokenExpiration)),
    }),
    jwtAccessToken: t.exposeString('jwtAccessToken', {
      nullable: true,
      description: 'The access token as a JWT, for the Authorization header of later calls.',
    }),
    refreshToken: t.string({
      nullable: true,
      description:
        'Token that obtains new tickets; it stays the same until it expires. ' +
        'Always null in cookie mode, where it travels only in an HttpOnly cookie.',
      kiboRequires: ['refreshToken'],
      // Cookie mode exists so that browser script never holds the refresh token.
      resolve: (ticket, _args, context) => (context.refreshTokenCookie ? null : ticket.refreshToken),
    }),
    refreshTokenExpiration: t.expose('refreshTokenExpiration', {
      type: 'DateTime',
      description: 'When the refresh token stops being accepted.',
    }),
    createdOn: t.expose('createdOn', { type: 'DateTime', description: 'When Kibo issued this ticket.' }),
    tenant: t.expose('tenant', { type: Tenant, description: 'The tenant this ticket is for.' }),
    availableTenants: t.expose('availableTenants', {
      type: [Tenant],
      nullable: { list: true, items: false },
      description: 'Every tenant the user may switch to.',
    }),
    user: t.expose('user', { type: UserProfile, description: 'The user the ticket was issued to.' }),
    grantedBehaviors: t.exposeIntList('grantedBehaviors', {
      nullable: { list: true, items: false },
      description: 'Ids of the behaviors (permissions) granted to the user in this tenant.',
    }),
    redirect: t.exposeString('redirect', {
      nullable: true,
      description: 'Where to send the user next, when Kibo asks for a redirect.',
    }),
    ssoNameId: t.exposeString('ssoNameId', {
      nullable: true,
      description: 'The SSO name id, for users who signed in through single sign-on.',
    }),
    ssoSession: t.exposeString('ssoSession', {
      nullable: true,
      description: 'The SSO session index, for users who signed in through single sign-on.',
    }),
  }),
});
