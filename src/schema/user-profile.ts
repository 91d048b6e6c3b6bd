/** The admin user a ticket was issued to. */
import { builder } from '../builder.js';
import type { KiboUserProfile } from '../kibo/types.js';

export const UserProfile = builder.objectRef<KiboUserProfile>('UserProfile').implement({
  description: 'The admin user the auth ticket belongs to.',
  kiboPlaceholder: 'userId',
  fields: (t) => ({
    userId: t.exposeString('userId', { nullable: true, description: "The user's unique identifier." }),
    userName: t.exposeString('userName', { nullable: true, description: 'The name the user logs in with.' }),
    emailAddress: t.exposeString('emailAddress', { nullable: true, description: "The user's email address." }),
    firstName: t.exposeString('firstName', { nullable: true, description: "The user's first name." }),
    lastName: t.exposeString('lastName', { nullable: true, description: "The user's last name." }),
  }),
});
