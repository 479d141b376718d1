// A KubeConfig whose every request names its component in the User-Agent header. Without
// it @kubernetes/client-node sends node-fetch's default, so audit logs and managedFields
// showed `node-fetch` for every kfn component.
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';
import type { OutgoingHttpHeaders } from 'node:http';
import type https from 'node:https';

/**
 * client-node 1.x sends requests two ways, and both ask the KubeConfig for their headers:
 * the generated API clients (makeApiClient) through applySecurityAuthentication, and
 * Watch (informers), exec, attach and logs through applyToHTTPSOptions (also behind
 * applyToFetchOptions). node-fetch puts its own User-Agent only on a request that has none.
 */
export class UserAgentKubeConfig extends KubeConfig {
  constructor(readonly userAgent: string) {
    super();
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setHeaderParam('User-Agent', this.userAgent);
  }

  override async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    // An object by now: client-node's applyAuthorizationHeader makes one when there is none.
    opts.headers = { ...(opts.headers as OutgoingHttpHeaders | undefined), 'User-Agent': this.userAgent };
  }
}

/** In a pod: the service account; elsewhere: KUBECONFIG or ~/.kube/config. */
export function loadKubeConfig(userAgent: string): KubeConfig {
  const kc = new UserAgentKubeConfig(userAgent);
  kc.loadFromDefault();
  return kc;
}
