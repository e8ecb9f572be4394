import { Duration, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { MAX_RULE_PRIORITY, PRIORITIES_PER_MODEL, stableSlots } from '../config/listener-priorities';

/** ALB forwards one action to at most 5 target groups (quota "target groups per action", not adjustable). */
export const MAX_VERSIONS_PER_RULE = 5;

/** A forward action's target-group weight: 0 to 999 (ELB API TargetGroupTuple). */
const MAX_WEIGHT = 999;

/** Target-group stickiness lasts 1 second to 7 days (ELB API TargetGroupStickinessConfig). */
const MAX_STICKINESS = Duration.days(7);

/**
 * The priority of the rule that splits the host's traffic by weight: the last of the block of ten
 * from the multiple of 10 at or below `priority`, after every header rule. For a model that is
 * `priority` + 9; MLflow's block, 0 to 9, starts at 1 (ALB has no priority 0) and still ends at 9,
 * clear of the first model block's 10.
 */
function weightedRulePriority(priority: number): number {
  return priority - (priority % PRIORITIES_PER_MODEL) + PRIORITIES_PER_MODEL - 1;
}

/** An HTTP header name ALB can match: an RFC 7230 token of at most 40 characters (ELB API HttpHeaderConditionConfig). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,40}$/;

/** A version name: a DNS label, so it is also a literal header value (no `*` or `?` wildcard) and a construct ID. */
const VERSION_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * How the load balancer checks a version's pods: GET the scoring server's /ping, which answers 200
 * with no work once the model is loaded (MLflow's scoring server loads it before it listens), so
 * a failure means the pod is unreachable or stalled, not busy. Two passes 10 s apart put a new pod
 * in service within about 20 s (ALB's defaults, 5 passes 30 s apart, would take 2.5 minutes, too
 * slow for autoscaling); three misses take 30 s, so one slow answer under a CPU-bound prediction
 * does not flap it. The kubelet's readiness probe (every 5 s, 3 misses) already withdraws a
 * failing pod, and with it its target, sooner: this check catches what the kubelet cannot see,
 * such as the load balancer not reaching the pod. The 5 s timeout is the probes' own (httpProbe).
 */
const HEALTH_CHECK = {
  healthyHttpCodes: '200',
  interval: Duration.seconds(10),
  timeout: Duration.seconds(5),
  healthyThresholdCount: 2,
  unhealthyThresholdCount: 3,
} as const;

/**
 * How long a leaving pod keeps its in-flight requests: the pods' termination grace period,
 * Kubernetes' default of 30 s, which the model Deployment keeps. After it the kubelet kills the
 * pod, so draining longer would wait for nothing; ALB's default is 300 s.
 */
const DEREGISTRATION_DELAY = Duration.seconds(30);

/** One version of a model and its share of the host's traffic. */
export interface ModelVersionWeight {
  /** Name of the version, a DNS label; the value of the version header that selects it. */
  readonly name: string;
  /** Its weight in the host's weighted forward, 0 to 999; 0 keeps it out of the split but reachable by header. */
  readonly weight: number;
}

/** Properties of a {@link ModelRouting}. */
export interface ModelRoutingProps {
  /** The shared listener the rules go on, usually the HTTPS listener of another stack's load balancer. */
  readonly listener: elbv2.IApplicationListener;
  /** VPC of the pods, which the target groups are in (a target group serves only its own VPC). */
  readonly vpc: ec2.IVpc;
  /** Name of the EKS cluster whose Auto Mode registers the pods; tagged on each target group, as Auto Mode requires. */
  readonly clusterName: string;
  /** Host name the model is served at; its requests match the rules. */
  readonly hostname: string;
  /**
   * First rule priority of the model's block of 10, which starts at a multiple of 10 (lib/config/listener-priorities.ts;
   * MLflow's at 1): header rules take it to +4, the weighted rule the block's last, …9.
   */
  readonly priority: number;
  /** The versions, each with its weight; at most 5, ALB's target groups per forward action. */
  readonly versions: ModelVersionWeight[];
  /** Port the pods serve HTTP on; targets are pod IPs. */
  readonly port: number;
  /** Path of the pods' health check, answering 200 when the pod can serve. */
  readonly healthCheckPath: string;
  /** How long a client stays with the version it was first sent to (target-group stickiness, 1 s to 7 days). @default - no stickiness */
  readonly stickiness?: Duration;
  /** Request header whose value, a version name, sends the request to that version alone. @default - no per-version routing */
  readonly versionHeader?: string;
}

/**
 * A model's route on the shared load balancer: one IP target group per version, which an Auto Mode
 * TargetGroupBinding fills with the version's pods, and listener rules for the model's host that
 * split its traffic across the versions by weight, or, with a version header, send a request to
 * the version it names.
 */
export class ModelRouting extends Construct {
  /** Each version's target group, by version name. */
  public readonly targetGroups: Record<string, elbv2.ApplicationTargetGroup>;
  /** The rule that forwards the host's requests to the versions by weight. */
  public readonly weightedRule: elbv2.ApplicationListenerRule;
  /** The rules that forward requests naming a version in the version header to it, by version name; empty without a header. */
  public readonly versionRules: Record<string, elbv2.ApplicationListenerRule>;

  constructor(scope: Construct, id: string, props: ModelRoutingProps) {
    super(scope, id);
    validate(props);

    this.targetGroups = Object.fromEntries(
      props.versions.map(({ name }) => {
        // No name: CloudFormation generates one within ALB's 32 characters, and a change that
        // replaces the group does not collide with the group it replaces.
        const targetGroup = new elbv2.ApplicationTargetGroup(this, `${name}TargetGroup`, {
          vpc: props.vpc,
          targetType: elbv2.TargetType.IP,
          protocol: elbv2.ApplicationProtocol.HTTP,
          port: props.port,
          healthCheck: { ...HEALTH_CHECK, path: props.healthCheckPath },
          deregistrationDelay: DEREGISTRATION_DELAY,
        });
        Tags.of(targetGroup).add('eks:eks-cluster-name', props.clusterName);
        return [name, targetGroup];
      }),
    );

    this.weightedRule = new elbv2.ApplicationListenerRule(this, 'WeightedRule', {
      listener: props.listener,
      priority: weightedRulePriority(props.priority),
      conditions: [elbv2.ListenerCondition.hostHeaders([props.hostname])],
      action: elbv2.ListenerAction.weightedForward(
        props.versions.map(({ name, weight }) => ({ targetGroup: this.targetGroups[name], weight })),
        { stickinessDuration: props.stickiness },
      ),
    });

    this.versionRules = props.versionHeader ? this.addVersionRules(props, props.versionHeader) : {};
  }

  /**
   * One rule per version for requests to the host whose version header names it, ahead of the
   * weighted rule. A version's rule keeps its priority when versions are reordered, and mostly
   * when others come and go (slots by name): a deploy that moved it into a priority another rule
   * still holds would fail (lib/config/listener-priorities.ts).
   */
  private addVersionRules(props: ModelRoutingProps, versionHeader: string): Record<string, elbv2.ApplicationListenerRule> {
    const offsets = stableSlots(props.versions.map(({ name }) => name).sort(), MAX_VERSIONS_PER_RULE);
    return Object.fromEntries(
      [...offsets].map(([name, offset]) => [
        name,
        new elbv2.ApplicationListenerRule(this, `${name}HeaderRule`, {
          listener: props.listener,
          priority: props.priority + offset,
          conditions: [elbv2.ListenerCondition.hostHeaders([props.hostname]), elbv2.ListenerCondition.httpHeader(versionHeader, [name])],
          action: elbv2.ListenerAction.forward([this.targetGroups[name]]),
        }),
      ]),
    );
  }
}

/** Throws a one-line error for props ALB would refuse at deploy time, or that would route nothing. */
function validate(props: ModelRoutingProps): void {
  const { versions, priority, stickiness, versionHeader } = props;
  const fail = (message: string): never => {
    throw new Error(`ModelRouting for ${props.hostname}: ${message}`);
  };
  if (versions.length === 0 || versions.length > MAX_VERSIONS_PER_RULE) {
    fail(`${versions.length} versions; a model has 1 to ${MAX_VERSIONS_PER_RULE}, as ALB forwards to at most ${MAX_VERSIONS_PER_RULE} target groups`);
  }
  const names = versions.map(({ name }) => name);
  for (const name of names) {
    if (!VERSION_NAME.test(name)) {
      fail(`version name "${name}" is not a DNS label (lowercase letters, digits and '-', at most 63)`);
    }
  }
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated) {
    fail(`version "${repeated}" is listed twice`);
  }
  for (const { name, weight } of versions) {
    if (!Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) {
      fail(`version "${name}" has weight ${weight}; ALB takes whole numbers 0 to ${MAX_WEIGHT}`);
    }
  }
  if (versions.every(({ weight }) => weight === 0)) {
    fail('every version has weight 0, so the host would be sent to none');
  }
  if (!Number.isInteger(priority) || priority < 1 || weightedRulePriority(priority) > MAX_RULE_PRIORITY) {
    fail(`priority ${priority}; ALB's rule priorities run from 1 to ${MAX_RULE_PRIORITY}, and the block of ${PRIORITIES_PER_MODEL} must fit`);
  }
  if (priority + MAX_VERSIONS_PER_RULE - 1 >= weightedRulePriority(priority)) {
    fail(`priority ${priority} leaves too little of its block for ${MAX_VERSIONS_PER_RULE} header rules before the weighted rule at …9; start at …0 to …4`);
  }
  const stickySeconds = stickiness?.toSeconds();
  if (stickySeconds !== undefined && (stickySeconds < 1 || stickySeconds > MAX_STICKINESS.toSeconds())) {
    fail(`stickiness of ${stickySeconds} s; ALB keeps target-group stickiness 1 s to 7 days (604800 s)`);
  }
  if (versionHeader !== undefined && (!HEADER_NAME.test(versionHeader) || versionHeader.toLowerCase() === 'host')) {
    fail(`version header "${versionHeader}" is not a header ALB can match: an HTTP token of at most 40 characters, not Host`);
  }
}
