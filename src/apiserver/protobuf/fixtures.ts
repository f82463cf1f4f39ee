// Recorded by capture.ts writeFixtures() from kubectl v1.32.4-dispatcher: each body is the exact protobuf request
// kubectl sent; expected is its --dry-run=client -o json output (nulls dropped) or, for commands without a
// dry run, the hand-written JSON in capture.ts CASES. Lets decode.test.ts run without kubectl.
export const FIXTURES: Record<string, { body: string; expected: unknown }> = {
  "configmap": {
    body: "azhzAAoPCgJ2MRIJQ29uZmlnTWFwEiYKEQoBeBIAGgAiACoAMgA4AEIAEgYKAWESAWISCQoFZW1wdHkSABoAIgA=",
    expected: {"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"},"data":{"a":"b","empty":""}},
  },
  "configmap-binary": {
    body: "azhzAAoPCgJ2MRIJQ29uZmlnTWFwEiUKEwoDYmluEgAaACIAKgAyADgAQgAaDgoEYmxvYhIGAP/+gEEKGgAiAA==",
    expected: {"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"bin"},"binaryData":{"blob":"AP/+gEEK"}},
  },
  "secret": {
    body: "azhzAAoMCgJ2MRIGU2VjcmV0EiMKEQoBcxIAGgAiACoAMgA4AEIAEgYKAWsSAXYaBk9wYXF1ZRoAIgA=",
    expected: {"kind":"Secret","apiVersion":"v1","metadata":{"name":"s"},"data":{"k":"dg=="},"type":"Opaque"},
  },
  "secret-docker-registry": {
    body: "azhzAAoMCgJ2MRIGU2VjcmV0EowBChMKA3JlZxIAGgAiACoAMgA4AEIAElUKES5kb2NrZXJjb25maWdqc29uEkB7ImF1dGhzIjp7InIuaW8iOnsidXNlcm5hbWUiOiJ1IiwicGFzc3dvcmQiOiJwIiwiYXV0aCI6ImRUcHcifX19Gh5rdWJlcm5ldGVzLmlvL2RvY2tlcmNvbmZpZ2pzb24aACIA",
    expected: {"kind":"Secret","apiVersion":"v1","metadata":{"name":"reg"},"data":{".dockerconfigjson":"eyJhdXRocyI6eyJyLmlvIjp7InVzZXJuYW1lIjoidSIsInBhc3N3b3JkIjoicCIsImF1dGgiOiJkVHB3In19fQ=="},"type":"kubernetes.io/dockerconfigjson"},
  },
  "deployment": {
    body: "azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50ErABChsKAWQSABoAIgAqADIAOABCAFoICgNhcHASAWQSggEIAxIKCggKA2FwcBIBZBpqChoKABIAGgAiACoAMgA4AEIAWggKA2FwcBIBZBJMEi4KBW5naW54EgVuZ2lueCoAMgoKABAAGFAiACoAQgBqAHIAgAEAiAEAkAEAogEAGgAyAEIASgBSAFgAYABoAIIBAIoBAJoBAMIBACICCgAoADgAGgwIABAAGAAgACgAOAAaACIA",
    expected: {"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"d","labels":{"app":"d"}},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"nginx","image":"nginx","ports":[{"containerPort":80}],"resources":{}}]}},"strategy":{}},"status":{}},
  },
  "namespace": {
    body: "azhzAAoPCgJ2MRIJTmFtZXNwYWNlEhkKEQoBbhIAGgAiACoAMgA4AEIAEgAaAgoAGgAiAA==",
    expected: {"kind":"Namespace","apiVersion":"v1","metadata":{"name":"n"},"spec":{},"status":{}},
  },
  "serviceaccount": {
    body: "azhzAAoUCgJ2MRIOU2VydmljZUFjY291bnQSFAoSCgJzYRIAGgAiACoAMgA4AEIAGgAiAA==",
    expected: {"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":"sa"}},
  },
  "service-nodeport": {
    body: "azhzAAoNCgJ2MRIHU2VydmljZRJlCh0KAm5wEgAaACIAKgAyADgAQgBaCQoDYXBwEgJucBJAChsKBzgwLTgwODASA1RDUBhQIgcIABCQPxoAKAASCQoDYXBwEgJucBoAIghOb2RlUG9ydDoAQgBSAFoAYABoABoCCgAaACIA",
    expected: {"kind":"Service","apiVersion":"v1","metadata":{"name":"np","labels":{"app":"np"}},"spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080}],"selector":{"app":"np"},"type":"NodePort"},"status":{"loadBalancer":{}}},
  },
  "service-clusterip": {
    body: "azhzAAoNCgJ2MRIHU2VydmljZRKQAQofCgNjaXASABoAIgAqADIAOABCAFoKCgNhcHASA2NpcBJpCiIKCTQ0My1odHRwcxIDVENQGLsDIgsIARAAGgVodHRwcygACh4KCTU2NzgtODA4MBIDVENQGK4sIgcIABCQPxoAKAASCgoDYXBwEgNjaXAaACIJQ2x1c3RlcklQOgBCAFIAWgBgAGgAGgIKABoAIgA=",
    expected: {"kind":"Service","apiVersion":"v1","metadata":{"name":"cip","labels":{"app":"cip"}},"spec":{"ports":[{"name":"443-https","protocol":"TCP","port":443,"targetPort":"https"},{"name":"5678-8080","protocol":"TCP","port":5678,"targetPort":8080}],"selector":{"app":"cip"},"type":"ClusterIP"},"status":{"loadBalancer":{}}},
  },
  "service-headless": {
    body: "azhzAAoNCgJ2MRIHU2VydmljZRJNCh0KAmhsEgAaACIAKgAyADgAQgBaCQoDYXBwEgJobBIoEgkKA2FwcBICaGwaBE5vbmUiCUNsdXN0ZXJJUDoAQgBSAFoAYABoABoCCgAaACIA",
    expected: {"kind":"Service","apiVersion":"v1","metadata":{"name":"hl","labels":{"app":"hl"}},"spec":{"selector":{"app":"hl"},"clusterIP":"None","type":"ClusterIP"},"status":{"loadBalancer":{}}},
  },
  "service-externalname": {
    body: "azhzAAoNCgJ2MRIHU2VydmljZRJaCh8KA2V4dBIAGgAiACoAMgA4AEIAWgoKA2FwcBIDZXh0EjMSCgoDYXBwEgNleHQaACIMRXh0ZXJuYWxOYW1lOgBCAFILZXhhbXBsZS5jb21aAGAAaAAaAgoAGgAiAA==",
    expected: {"kind":"Service","apiVersion":"v1","metadata":{"name":"ext","labels":{"app":"ext"}},"spec":{"selector":{"app":"ext"},"type":"ExternalName","externalName":"example.com"},"status":{"loadBalancer":{}}},
  },
  "service-loadbalancer": {
    body: "azhzAAoNCgJ2MRIHU2VydmljZRJmCh0KAmxiEgAaACIAKgAyADgAQgBaCQoDYXBwEgJsYhJBChgKBTgwLTgwEgNUQ1AYUCIGCAAQUBoAKAASCQoDYXBwEgJsYhoAIgxMb2FkQmFsYW5jZXI6AEIAUgBaAGAAaAAaAgoAGgAiAA==",
    expected: {"kind":"Service","apiVersion":"v1","metadata":{"name":"lb","labels":{"app":"lb"}},"spec":{"ports":[{"name":"80-80","protocol":"TCP","port":80,"targetPort":80}],"selector":{"app":"lb"},"type":"LoadBalancer"},"status":{"loadBalancer":{}}},
  },
  "job": {
    body: "azhzAAoPCghiYXRjaC92MRIDSm9iEoIBChEKAWoSABoAIgAqADIAOABCABJjMmEKEAoAEgAaACIAKgAyADgAQgASTRIqCgFqEgdidXN5Ym94GgRlY2hvGgJoaSoAQgBqAHIAgAEAiAEAkAEAogEAGgVOZXZlcjIAQgBKAFIAWABgAGgAggEAigEAmgEAwgEAGgggACgAMAA6ABoAIgA=",
    expected: {"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"j"},"spec":{"template":{"metadata":{},"spec":{"containers":[{"name":"j","image":"busybox","command":["echo","hi"],"resources":{}}],"restartPolicy":"Never"}}},"status":{}},
  },
  "cronjob": {
    body: "azhzAAoTCghiYXRjaC92MRIHQ3JvbkpvYhKeAQoSCgJjahIAGgAiACoAMgA4AEIAEoUBCgsqLzEgKiAqICogKhoAKnQKEgoCY2oSABoAIgAqADIAOABCABJeMlwKEAoAEgAaACIAKgAyADgAQgASSBIhCgJjahIHYnVzeWJveCoAQgBqAHIAgAEAiAEAkAEAogEAGglPbkZhaWx1cmUyAEIASgBSAFgAYABoAIIBAIoBAJoBAMIBABoAGgAiAA==",
    expected: {"kind":"CronJob","apiVersion":"batch/v1","metadata":{"name":"cj"},"spec":{"schedule":"*/1 * * * *","jobTemplate":{"metadata":{"name":"cj"},"spec":{"template":{"metadata":{},"spec":{"containers":[{"name":"cj","image":"busybox","resources":{}}],"restartPolicy":"OnFailure"}}}}},"status":{}},
  },
  "job-from-cronjob": {
    body: "azhzAAoPCghiYXRjaC92MRIDSm9iEpMTCnkKAmoyEgAaACIAKgAyADgAQgBaCQoEdGVhbRIBYWIrCiFjcm9uam9iLmt1YmVybmV0ZXMuaW8vaW5zdGFudGlhdGUSBm1hbnVhbGIICgRub3RlEgBqIwoHQ3JvbkpvYhoCY2oiCGNqLXVpZC0xKghiYXRjaC92MTABEosSCAIQBBiQHDKnEQoiCgASABoAIgAqADIAOABCAFoICgNhcHASAXhiBgoBYRIBYhKAEQoZCgRkYXRhEhESDwoGTWVtb3J5EgUKAzFHaQoNCgVlbXB0eRIEEgIKAAoUCgJocBIOCgwKCC92YXIvbG9nEgAKIwoCY20SHZoBGgoECgJjbRINCgFhEgVhLnR4dBikAxikAyABCg8KA3NlYxIIMgYKAXMYgAIKDgoDcHZjEgdSBQoBYxABCmUKBHByb2oSXdIBWgoPIg0KAWEQkBwaBXRva2VuCiESHwodCgZsYWJlbHMSEwoAEg9tZXRhZGF0YS5sYWJlbHMKCRoHCgUKA2NtMgoKCggKBAoCczIgAAoKKggSAXgaACIBYhCkAwotCgRkYXBpEiWCASIKIAoDY3B1GhkKA2FwcBIMcmVxdWVzdHMuY3B1GgQKAjFtCogBCgNlcGgSgAHqAX0KewoYCgASABoAIgAqADIAOABCAFoGCgF4EgF5El8KDVJlYWRXcml0ZU9uY2USEhIQCgdzdG9yYWdlEgUKAzFHaRoAKgAyBUJsb2NrQi8KF3NuYXBzaG90LnN0b3JhZ2UuazhzLmlvEg5Wb2x1bWVTbmFwc2hvdBoEc25hcAofCgNuZnMSGDoWCggxMC4wLjAuMRIIL2V4cG9ydHMYAQocCgNjc2kSFeIBEgoBZBAAIgYKAWESAWIqAwoBcwohCgNpbWcSGvIBFwoHYnVzeWJveBIMSWZOb3RQcmVzZW50CjAKBWlzY3NpEidCJQoMMS4yLjMuNDozMjYwEgVpcW4ueBgAIgAqBGV4dDQwAEAAWAAKIAoHZ2l0cmVwbxIVKhMKCWh0dHBzOi8veBIEbWFpbhoAChIKAmZjEgyKAQkKAWEQABoAIAASygUKA2FwcBIKbmdpbng6MS4yNSICLWciC2RhZW1vbiBvZmY7KgIvdzIZCgRodHRwEJA/GFAiA1RDUCoHMC4wLjAuMDoGCgFBEgExOgkKBUVNUFRZEgA6FAoBQhIAGg0aCwoECgJjbRIBaxgAOhEKAUMSABoKIggKAwoBcxIBazocCgFEEgAaFQoTCgJ2MRINbWV0YWRhdGEubmFtZTokCgFFEgAaHRIbCgNhcHASDWxpbWl0cy5tZW1vcnkaBQoDMU1pQloKDQoDY3B1EgYKBDUwMG0KEQoGbWVtb3J5EgcKBTEyOE1pEg0KA2NwdRIGCgQyNTBtEhAKBm1lbW9yeRIGCgQ2NE1pEhUKDm52aWRpYS5jb20vZ3B1EgMKATFKJQoEZGF0YRABGgUvZGF0YSIBeCoPSG9zdFRvQ29udGFpbmVyMgBKHwoCY20QABoDL2NtIgAyBiQoUE9EKToIRGlzYWJsZWRSNgooEiYKCC9oZWFsdGh6EgoIARAAGgRodHRwGgFoIgRIVFRQKgUKAVgSABADGAEgCigBMAM4AFoYCgwaCgoGCAAQUBoAEgAQABgAIAAoADAAYg0KBQoDCgF4EgQiAggFahQvZGV2L3Rlcm1pbmF0aW9uLWxvZ3IMSWZOb3RQcmVzZW50elkKEAoJTkVUX0FETUlOEgNBTEwQABoNCgASABoAIgVzMDpjMSDoBygBMAE4AEAASgdEZWZhdWx0WhAKDlJ1bnRpbWVEZWZhdWx0Yg4KCUxvY2FsaG9zdBIBcIABAYgBAJABAZoBDgoCUF8SCAoECgJjbRABmgEJCgAaBQoDCgFzogEVRmFsbGJhY2tUb0xvZ3NPbkVycm9yqgEQCgNlcGgSCS9kZXYveHZkYbIBHAoQCg4KA2NhdAoHL3RtcC9vaxAAGAAgACgAMAC6ARIKA2NwdRILTm90UmVxdWlyZWQSUQoEZ3JwYxIBZyoAQgBSEwoHIgUIqEYSABAAGAAgACgAMABaHQoREg8KABIHCAAQkD8aABoAIgAQABgAIAAoADAAagByAIABAIgBAJABAKIBABoJT25GYWlsdXJlIAAoZDIMQ2x1c3RlckZpcnN0OgsKBGRpc2sSA3NzZEICc2FKAFICbjFYAWAAaAByZAoJCgF1EgAaACIAEAAgASACKNAPOhoKEm5ldC5jb3JlLnNvbWF4Y29ubhIEMTAyNEIFGgF4IABKDk9uUm9vdE1pc21hdGNoUhMKCUxvY2FsaG9zdBIGcC5qc29uYgZTdHJpY3R6BQoDcmVnggEBaIoBAnNkkgGlAQpFCjAKLgoQCgR6b25lEgJJbhoBYRoBYhIaCg1tZXRhZGF0YS5uYW1lEgVOb3RJbhoCbjESEQgBEg0KCwoBaxIGRXhpc3RzEiwKKgoKCggKA2FwcBIBeBIBYRoEem9uZSIAKhFwb2QtdGVtcGxhdGUtaGFzaBouEiwIZBIoCg4SDAoDYXBwEgJJbhoBeBoWa3ViZXJuZXRlcy5pby9ob3N0bmFtZZoBDG15LXNjaGVkdWxlcqIBSQoEaW5pdBIHYnVzeWJveBoCc2gaAi1jGgR0cnVlKgBCDwoNCgNjcHUSBgoEMTAwbWoAcgCAAQCIAQCQAQCiAQDCAQZBbHdheXOoAQCyARkKAWsSBUVxdWFsGgF2IgpOb1NjaGVkdWxlsgEZCgASBkV4aXN0cxoAIglOb0V4ZWN1dGUoALoBDwoHMS4yLjMuNBIBYRIBYsIBBGhpZ2jIAQDSASMKBzEuMS4xLjESA2EuYhoKCgVuZG90cxIBMhoHCgVlZG5zMNgBAeIBAwoBeOoBAnJj8AEA+gEFTmV2ZXKCAg0KA2NwdRIGCgQxMDBtigI3CAESBHpvbmUaDURvTm90U2NoZWR1bGUiCgoICgNhcHASAXgoAjIFSG9ub3I6Bklnbm9yZUIBdpICKQoiCgNkYmcSB2J1c3lib3gqAEIAagByAIABAYgBAJABAKIBABIDYXBwmAIAogIHCgVsaW51eKgCALICAwoBZ7oCBwoCcmMiAXTCAgwKCgoDY3B1EgMKATI4AEA8SgdJbmRleGVkUABaSQojCgdGYWlsSm9iEhgKA2FwcBICSW4Y////////////ARgCGCoKIgoGSWdub3JlGhgKEERpc3J1cHRpb25UYXJnZXQSBFRydWUaCCAAKAAwADoAGgAiAA==",
    expected: {"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"j2","labels":{"team":"a"},"annotations":{"cronjob.kubernetes.io/instantiate":"manual","note":""},"ownerReferences":[{"apiVersion":"batch/v1","kind":"CronJob","name":"cj","uid":"cj-uid-1","controller":true}]},"spec":{"parallelism":2,"completions":4,"activeDeadlineSeconds":3600,"podFailurePolicy":{"rules":[{"action":"FailJob","onExitCodes":{"containerName":"app","operator":"In","values":[-1,2,42]}},{"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget","status":"True"}]}]},"backoffLimit":0,"template":{"metadata":{"labels":{"app":"x"},"annotations":{"a":"b"}},"spec":{"volumes":[{"name":"data","emptyDir":{"medium":"Memory","sizeLimit":"1Gi"}},{"name":"empty","emptyDir":{}},{"name":"hp","hostPath":{"path":"/var/log","type":""}},{"name":"cm","configMap":{"name":"cm","items":[{"key":"a","path":"a.txt","mode":420}],"defaultMode":420,"optional":true}},{"name":"sec","secret":{"secretName":"s","defaultMode":256}},{"name":"pvc","persistentVolumeClaim":{"claimName":"c","readOnly":true}},{"name":"proj","projected":{"sources":[{"serviceAccountToken":{"audience":"a","expirationSeconds":3600,"path":"token"}},{"downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}}]}},{"configMap":{"name":"cm2"}},{"secret":{"name":"s2","optional":false}},{"clusterTrustBundle":{"signerName":"x","labelSelector":{},"path":"b"}}],"defaultMode":420}},{"name":"dapi","downwardAPI":{"items":[{"path":"cpu","resourceFieldRef":{"containerName":"app","resource":"requests.cpu","divisor":"1m"}}]}},{"name":"eph","ephemeral":{"volumeClaimTemplate":{"metadata":{"labels":{"x":"y"}},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},"storageClassName":"","volumeMode":"Block","dataSourceRef":{"apiGroup":"snapshot.storage.k8s.io","kind":"VolumeSnapshot","name":"snap"}}}}},{"name":"nfs","nfs":{"server":"10.0.0.1","path":"/exports","readOnly":true}},{"name":"csi","csi":{"driver":"d","readOnly":false,"volumeAttributes":{"a":"b"},"nodePublishSecretRef":{"name":"s"}}},{"name":"img","image":{"reference":"busybox","pullPolicy":"IfNotPresent"}},{"name":"iscsi","iscsi":{"targetPortal":"1.2.3.4:3260","iqn":"iqn.x","lun":0,"fsType":"ext4"}},{"name":"gitrepo","gitRepo":{"repository":"https://x","revision":"main"}},{"name":"fc","fc":{"targetWWNs":["a"],"lun":0}}],"initContainers":[{"name":"init","image":"busybox","command":["sh","-c","true"],"resources":{"limits":{"cpu":"100m"}},"restartPolicy":"Always"}],"containers":[{"name":"app","image":"nginx:1.25","args":["-g","daemon off;"],"workingDir":"/w","ports":[{"name":"http","hostPort":8080,"containerPort":80,"protocol":"TCP","hostIP":"0.0.0.0"}],"envFrom":[{"prefix":"P_","configMapRef":{"name":"cm","optional":true}},{"secretRef":{"name":"s"}}],"env":[{"name":"A","value":"1"},{"name":"EMPTY"},{"name":"B","valueFrom":{"configMapKeyRef":{"name":"cm","key":"k","optional":false}}},{"name":"C","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}},{"name":"D","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}},{"name":"E","valueFrom":{"resourceFieldRef":{"containerName":"app","resource":"limits.memory","divisor":"1Mi"}}}],"resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"250m","memory":"64Mi","nvidia.com/gpu":"1"}},"resizePolicy":[{"resourceName":"cpu","restartPolicy":"NotRequired"}],"volumeMounts":[{"name":"data","readOnly":true,"mountPath":"/data","subPath":"x","mountPropagation":"HostToContainer"},{"name":"cm","recursiveReadOnly":"Disabled","mountPath":"/cm","subPathExpr":"$(POD)"}],"volumeDevices":[{"name":"eph","devicePath":"/dev/xvda"}],"livenessProbe":{"httpGet":{"path":"/healthz","port":"http","host":"h","scheme":"HTTP","httpHeaders":[{"name":"X","value":""}]},"initialDelaySeconds":3,"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3,"terminationGracePeriodSeconds":0},"readinessProbe":{"tcpSocket":{"port":80}},"startupProbe":{"exec":{"command":["cat","/tmp/ok"]}},"lifecycle":{"postStart":{"exec":{"command":["x"]}},"preStop":{"sleep":{"seconds":5}}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"FallbackToLogsOnError","imagePullPolicy":"IfNotPresent","securityContext":{"capabilities":{"add":["NET_ADMIN"],"drop":["ALL"]},"privileged":false,"seLinuxOptions":{"level":"s0:c1"},"runAsUser":1000,"runAsGroup":0,"runAsNonRoot":true,"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,"procMount":"Default","seccompProfile":{"type":"RuntimeDefault"},"appArmorProfile":{"type":"Localhost","localhostProfile":"p"}},"stdin":true,"tty":true},{"name":"grpc","image":"g","resources":{},"livenessProbe":{"grpc":{"port":9000,"service":""}},"readinessProbe":{"httpGet":{"port":8080}}}],"ephemeralContainers":[{"name":"dbg","image":"busybox","resources":{},"stdin":true,"targetContainerName":"app"}],"restartPolicy":"OnFailure","terminationGracePeriodSeconds":0,"activeDeadlineSeconds":100,"dnsPolicy":"ClusterFirst","nodeSelector":{"disk":"ssd"},"serviceAccountName":"sa","automountServiceAccountToken":false,"nodeName":"n1","hostNetwork":true,"shareProcessNamespace":true,"securityContext":{"seLinuxOptions":{"user":"u"},"windowsOptions":{"runAsUserName":"x","hostProcess":false},"runAsUser":0,"supplementalGroups":[1,2],"supplementalGroupsPolicy":"Strict","fsGroup":2000,"sysctls":[{"name":"net.core.somaxconn","value":"1024"}],"fsGroupChangePolicy":"OnRootMismatch","seccompProfile":{"type":"Localhost","localhostProfile":"p.json"}},"imagePullSecrets":[{"name":"reg"}],"hostname":"h","subdomain":"sd","affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["a","b"]}],"matchFields":[{"key":"metadata.name","operator":"NotIn","values":["n1"]}]}]},"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1,"preference":{"matchExpressions":[{"key":"k","operator":"Exists"}]}}]},"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"x"}},"namespaces":["a"],"topologyKey":"zone","namespaceSelector":{},"matchLabelKeys":["pod-template-hash"]}]},"podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,"podAffinityTerm":{"labelSelector":{"matchExpressions":[{"key":"app","operator":"In","values":["x"]}]},"topologyKey":"kubernetes.io/hostname"}}]}},"schedulerName":"my-scheduler","tolerations":[{"key":"k","operator":"Equal","value":"v","effect":"NoSchedule"},{"operator":"Exists","effect":"NoExecute","tolerationSeconds":0}],"hostAliases":[{"ip":"1.2.3.4","hostnames":["a","b"]}],"priorityClassName":"high","priority":0,"dnsConfig":{"nameservers":["1.1.1.1"],"searches":["a.b"],"options":[{"name":"ndots","value":"2"},{"name":"edns0"}]},"readinessGates":[{"conditionType":"x"}],"runtimeClassName":"rc","enableServiceLinks":false,"preemptionPolicy":"Never","overhead":{"cpu":"100m"},"topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"x"}},"minDomains":2,"nodeAffinityPolicy":"Honor","nodeTaintsPolicy":"Ignore","matchLabelKeys":["v"]}],"setHostnameAsFQDN":false,"os":{"name":"linux"},"hostUsers":false,"schedulingGates":[{"name":"g"}],"resourceClaims":[{"name":"rc","resourceClaimTemplateName":"t"}],"resources":{"limits":{"cpu":"2"}}}},"ttlSecondsAfterFinished":60,"completionMode":"Indexed","suspend":false},"status":{}},
  },
  "role": {
    body: "azhzAAokChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgRSb2xlEiIKEQoBchIAGgAiACoAMgA4AEIAEg0KA2dldBIAGgRwb2RzGgAiAA==",
    expected: {"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"r"},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]},
  },
  "role-names": {
    body: "azhzAAokChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgRSb2xlElMKEgoCcjISABoAIgAqADIAOABCABIaCgNnZXQKBGxpc3QSABoIcG9kcy9sb2ciAWESIQoDZ2V0CgRsaXN0EgRhcHBzGgtkZXBsb3ltZW50cyIBYRoAIgA=",
    expected: {"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"r2"},"rules":[{"verbs":["get","list"],"apiGroups":[""],"resources":["pods/log"],"resourceNames":["a"]},{"verbs":["get","list"],"apiGroups":["apps"],"resources":["deployments"],"resourceNames":["a"]}]},
  },
  "clusterrole": {
    body: "azhzAAorChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgtDbHVzdGVyUm9sZRI1ChIKAmNyEgAaACIAKgAyADgAQgASDgoDZ2V0EgAaBW5vZGVzEg8KA2dldCoIL2hlYWx0aHoaACIA",
    expected: {"kind":"ClusterRole","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"cr"},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["nodes"]},{"verbs":["get"],"nonResourceURLs":["/healthz"]}]},
  },
  "clusterrole-aggregate": {
    body: "azhzAAorChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgtDbHVzdGVyUm9sZRI9ChMKA2FnZxIAGgAiACoAMgA4AEIAGiYKJAoiChpyYmFjLmV4YW1wbGUuY29tL2FnZ3JlZ2F0ZRIEdHJ1ZRoAIgA=",
    expected: {"kind":"ClusterRole","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"agg"},"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"rbac.example.com/aggregate":"true"}}]}},
  },
  "rolebinding": {
    body: "azhzAAorChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgtSb2xlQmluZGluZxKHAQoSCgJyYhIAGgAiACoAMgA4AEIAEioKBFVzZXISGXJiYWMuYXV0aG9yaXphdGlvbi5rOHMuaW8aBWFsaWNlIgASHwoOU2VydmljZUFjY291bnQSABoCc2EiB2RlZmF1bHQaJAoZcmJhYy5hdXRob3JpemF0aW9uLms4cy5pbxIEUm9sZRoBchoAIgA=",
    expected: {"kind":"RoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"rb"},"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"},{"kind":"ServiceAccount","name":"sa","namespace":"default"}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"}},
  },
  "clusterrolebinding": {
    body: "azhzAAoyChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEhJDbHVzdGVyUm9sZUJpbmRpbmcSbwoTCgNjcmISABoAIgAqADIAOABCABIqCgVHcm91cBIZcmJhYy5hdXRob3JpemF0aW9uLms4cy5pbxoEZGV2cyIAGiwKGXJiYWMuYXV0aG9yaXphdGlvbi5rOHMuaW8SC0NsdXN0ZXJSb2xlGgJjchoAIgA=",
    expected: {"kind":"ClusterRoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"crb"},"subjects":[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"devs"}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cr"}},
  },
  "ingress": {
    body: "azhzAAofChRuZXR3b3JraW5nLms4cy5pby92MRIHSW5ncmVzcxKbAQobCgNpbmcSABoAIgAqADIAOABCAGIGCgFhEgFiEngKDiIMCgNkZWYSBQoAEJA/Eg4KB2Zvby5jb20SA3NlYxpPCgdmb28uY29tEkQKQgocCgQvYmFyEg0iCwoDc3ZjEgQKABBQGgVFeGFjdAoiCgQvdGxzEhIiEAoEc3ZjMhIICgRodHRwEAAaBlByZWZpeCIFbmdpbngaAgoAGgAiAA==",
    expected: {"kind":"Ingress","apiVersion":"networking.k8s.io/v1","metadata":{"name":"ing","annotations":{"a":"b"}},"spec":{"ingressClassName":"nginx","defaultBackend":{"service":{"name":"def","port":{"number":8080}}},"tls":[{"hosts":["foo.com"],"secretName":"sec"}],"rules":[{"host":"foo.com","http":{"paths":[{"path":"/bar","pathType":"Exact","backend":{"service":{"name":"svc","port":{"number":80}}}},{"path":"/tls","pathType":"Prefix","backend":{"service":{"name":"svc2","port":{"name":"http"}}}}]}}]},"status":{"loadBalancer":{}}},
  },
  "quota": {
    body: "azhzAAoTCgJ2MRINUmVzb3VyY2VRdW90YRJgChEKAXESABoAIgAqADIAOABCABJJChYKDWxpbWl0cy5tZW1vcnkSBQoDMUdpCgsKBHBvZHMSAwoBMgoWCgxyZXF1ZXN0cy5jcHUSBgoENTAwbRIKQmVzdEVmZm9ydBoAGgAiAA==",
    expected: {"kind":"ResourceQuota","apiVersion":"v1","metadata":{"name":"q"},"spec":{"hard":{"limits.memory":"1Gi","pods":"2","requests.cpu":"500m"},"scopes":["BestEffort"]},"status":{}},
  },
  "priorityclass": {
    body: "azhzAAolChRzY2hlZHVsaW5nLms4cy5pby92MRINUHJpb3JpdHlDbGFzcxIjChIKAnBjEgAaACIAKgAyADgAQgAQABgAIgJoaSoFTmV2ZXIaACIA",
    expected: {"kind":"PriorityClass","apiVersion":"scheduling.k8s.io/v1","metadata":{"name":"pc"},"value":0,"description":"hi","preemptionPolicy":"Never"},
  },
  "pdb": {
    body: "azhzAAogCglwb2xpY3kvdjESE1BvZERpc3J1cHRpb25CdWRnZXQSOgoTCgNwZGISABoAIgAqADIAOABCABIXCgkIARAAGgM1MCUSCgoICgNhcHASAXgaCggAGAAgACgAMAAaACIA",
    expected: {"kind":"PodDisruptionBudget","apiVersion":"policy/v1","metadata":{"name":"pdb"},"spec":{"minAvailable":"50%","selector":{"matchLabels":{"app":"x"}}},"status":{"disruptionsAllowed":0,"currentHealthy":0,"desiredHealthy":0,"expectedPods":0}},
  },
  "pdb-int": {
    body: "azhzAAogCglwb2xpY3kvdjESE1BvZERpc3J1cHRpb25CdWRnZXQSOAoUCgRwZGIyEgAaACIAKgAyADgAQgASFBIKCggKA2FwcBIBeBoGCAAQABoAGgoIABgAIAAoADAAGgAiAA==",
    expected: {"kind":"PodDisruptionBudget","apiVersion":"policy/v1","metadata":{"name":"pdb2"},"spec":{"selector":{"matchLabels":{"app":"x"}},"maxUnavailable":0},"status":{"disruptionsAllowed":0,"currentHealthy":0,"desiredHealthy":0,"expectedPods":0}},
  },
  "can-i": {
    body: "azhzAAoyChdhdXRob3JpemF0aW9uLms4cy5pby92MRIXU2VsZlN1YmplY3RBY2Nlc3NSZXZpZXcSSwoQCgASABoAIgAqADIAOABCABItCisKA25zMRIGY3JlYXRlGgRhcHBzIgAqC2RlcGxveW1lbnRzMgVzY2FsZToAGggIABIAGgAgABoAIgA=",
    expected: {"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","metadata":{},"spec":{"resourceAttributes":{"namespace":"ns1","verb":"create","group":"apps","resource":"deployments","subresource":"scale"}},"status":{"allowed":false}},
  },
  "can-i-nonresource": {
    body: "azhzAAoyChdhdXRob3JpemF0aW9uLms4cy5pby92MRIXU2VsZlN1YmplY3RBY2Nlc3NSZXZpZXcSLAoQCgASABoAIgAqADIAOABCABIOEgwKBS9sb2dzEgNnZXQaCAgAEgAaACAAGgAiAA==",
    expected: {"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","metadata":{},"spec":{"nonResourceAttributes":{"path":"/logs","verb":"get"}},"status":{"allowed":false}},
  },
  "token": {
    body: "azhzAAooChhhdXRoZW50aWNhdGlvbi5rOHMuaW8vdjESDFRva2VuUmVxdWVzdBI2ChAKABIAGgAiACoAMgA4AEIAEhwKAWEKAWIaEQoDUG9kEgJ2MRoBcCIDMTIzINgEGgQKABIAGgAiAA==",
    expected: {"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","metadata":{},"spec":{"audiences":["a","b"],"expirationSeconds":600,"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"p","uid":"123"}},"status":{"token":""}},
  },
  "auth-reconcile": {
    body: "azhzAAokChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgRSb2xlEvkBCtcBCgFyEgAaB2RlZmF1bHQiACoDdS0xMgI0MjgDQggIpfrNrAYQAFAAWgYKAWESAWJqJAoJTmFtZXNwYWNlGgdkZWZhdWx0IgZucy11aWQqAnYxMAA4AXIBZooBfAoHa3ViZWN0bBIGVXBkYXRlGhxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxIggIpfrNrAYQADIIRmllbGRzVjE6NQozeyJmOnJ1bGVzIjp7fSwiZjptZXRhZGF0YSI6eyJmOmxhYmVscyI6eyJmOmEiOnt9fX19QgASDQoDZ2V0EgAaBHBvZHMSDgoEbGlzdBIAGgRwb2RzGgAiAA==",
    expected: {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r","namespace":"default","uid":"u-1","resourceVersion":"42","generation":3,"creationTimestamp":"2024-01-02T03:04:05Z","deletionGracePeriodSeconds":0,"labels":{"a":"b"},"finalizers":["f"],"ownerReferences":[{"apiVersion":"v1","kind":"Namespace","name":"default","uid":"ns-uid","controller":false,"blockOwnerDeletion":true}],"managedFields":[{"manager":"kubectl","operation":"Update","apiVersion":"rbac.authorization.k8s.io/v1","time":"2024-01-02T03:04:05Z","fieldsType":"FieldsV1","fieldsV1":{"f:rules":{},"f:metadata":{"f:labels":{"f:a":{}}}}}]},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]},{"verbs":["list"],"apiGroups":[""],"resources":["pods"]}]},
  },
};
