/**
 * kube-system/extension-apiserver-authentication: how kube-apiserver tells aggregated servers
 * (metrics-server and any k8s.io/apiserver-based server) whom to trust. They verify the
 * aggregator's client certificate against requestheader-client-ca-file, accept only the listed
 * names, and then take the user from the listed headers. Upstream writes it at start
 * (its ClientCARegistrationHook); so does the aggregator controller here.
 */
export const AUTH_CONFIGMAP_NAMESPACE = 'kube-system';
export const AUTH_CONFIGMAP_NAME = 'extension-apiserver-authentication';

export interface ExtensionAuthentication {
  /** CA of the client certificates this server accepts (client-ca-file). */
  clientCA?: string;
  /** CA of the proxy client certificate (requestheader-client-ca-file). */
  requestHeaderCA: string;
  /** Names (CN) the proxy client certificate may carry (requestheader-allowed-names). */
  requestHeaderAllowedNames: string[];
}

/** The ConfigMap's data, with upstream's keys; lists are JSON, as upstream writes them. */
export function extensionAuthenticationData(a: ExtensionAuthentication): Record<string, string> {
  const data: Record<string, string> = {};
  if (a.clientCA) data['client-ca-file'] = a.clientCA;
  data['requestheader-allowed-names'] = JSON.stringify(a.requestHeaderAllowedNames);
  data['requestheader-client-ca-file'] = a.requestHeaderCA;
  data['requestheader-extra-headers-prefix'] = JSON.stringify(['X-Remote-Extra-']);
  data['requestheader-group-headers'] = JSON.stringify(['X-Remote-Group']);
  data['requestheader-username-headers'] = JSON.stringify(['X-Remote-User']);
  return data;
}
