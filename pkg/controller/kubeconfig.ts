// A KubeConfig whose every request names its component in the User-Agent header. Without
// it @kubernetes/client-node sends its own (`kubernetes-client-javascript/2.x`; 1.x sent
// node-fetch's), so audit logs and managedFields showed that for every kfn component.
import {
  createConfiguration,
  KubeConfig,
  ServerConfiguration,
  setHeaderMiddleware,
  type ApiConstructor,
  type ApiType,
  type RequestContext,
} from '@kubernetes/client-node';
import type { OutgoingHttpHeaders } from 'node:http';
import type https from 'node:https';

/**
 * client-node 2 asks the KubeConfig for a request's headers through
 * applySecurityAuthentication (generated API clients and Watch, which informers use) and
 * applyToHTTPSOptions (exec, attach, logs). The generated clients made by makeApiClient
 * then set client-node's own User-Agent in a middleware that runs after authentication, so
 * makeApiClient is replaced by one whose middleware sets ours.
 */
export class UserAgentKubeConfig extends KubeConfig {
  constructor(readonly userAgent: string) {
    super();
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setHeaderParam('User-Agent', this.userAgent);
  }

  override makeApiClient<T extends ApiType>(apiClientType: ApiConstructor<T>): T {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig: no current cluster (set a current-context that names one)');
    return new apiClientType(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: this },
        middleware: [setHeaderMiddleware('User-Agent', this.userAgent)],
      }),
    );
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
