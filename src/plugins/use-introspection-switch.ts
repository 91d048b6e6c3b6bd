/** `INTROSPECTION=false`: schema introspection is refused (Yoga's own plugin); otherwise nothing. */
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import type { Plugin } from 'graphql-yoga';

export interface IntrospectionSwitchOptions {
  /** Whether `__schema` and `__type` may be queried. Default in config: true. */
  introspection: boolean;
}

export function useIntrospectionSwitch({ introspection }: IntrospectionSwitchOptions): Plugin {
  return introspection ? {} : useDisableIntrospection();
}
