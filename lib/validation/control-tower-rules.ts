import * as fs from 'node:fs';
import * as path from 'node:path';

/** One Control Tower rule file and the resource types it names. */
interface RuleFile {
  readonly path: string;
  readonly resourceTypes: string[];
}

/** A resource type as CloudFormation writes it, e.g. AWS::S3::Bucket. */
const RESOURCE_TYPE = /AWS::[A-Za-z0-9]+::[A-Za-z0-9]+/g;

/**
 * The Control Tower proactive-control rules that cdk-validator-cfnguard bundles, indexed by the resource types
 * each file names. Every one of these rules selects the resources it reports on by type (`Resources.*[ Type ==
 * %S3_BUCKET_TYPE ]`, the constant spelled out in the file) and is skipped when a template holds none, so handing
 * cfn-guard only the files naming a type present changes no finding while sparing it the parse and evaluation of
 * the other 400-odd files; a file naming no type at all is always handed over.
 */
export class ControlTowerRules {
  private static loaded: ControlTowerRules | undefined;

  /** The bundled rules, read once per process. */
  public static bundled(): ControlTowerRules {
    ControlTowerRules.loaded ??= new ControlTowerRules(ControlTowerRules.directory());
    return ControlTowerRules.loaded;
  }

  /** The folder of the bundled rules, as cdk-validator-cfnguard uses it. */
  public static directory(): string {
    return path.join(path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules', 'control-tower', 'cfn-guard');
  }

  /** Every rule file under `directory`, with the types it names. */
  public readonly files: RuleFile[];

  constructor(directory: string) {
    this.files = fs
      .readdirSync(directory, { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.guard'))
      .sort()
      .map((file) => {
        const text = fs.readFileSync(path.join(directory, file), 'utf8');
        return { path: path.join(directory, file), resourceTypes: [...new Set(text.match(RESOURCE_TYPE) ?? [])] };
      });
  }

  /** The rule files that can report on templates holding these resource types. */
  public filesFor(resourceTypes: ReadonlySet<string>): string[] {
    return this.files
      .filter((file) => file.resourceTypes.length === 0 || file.resourceTypes.some((type) => resourceTypes.has(type)))
      .map((file) => file.path);
  }
}

/** The resource types the templates hold. */
export function resourceTypesOf(templatePaths: string[]): Set<string> {
  const types = new Set<string>();
  for (const templatePath of templatePaths) {
    const resources = (JSON.parse(fs.readFileSync(templatePath, 'utf8')).Resources ?? {}) as Record<string, { Type?: unknown }>;
    for (const resource of Object.values(resources)) {
      if (typeof resource.Type === 'string') {
        types.add(resource.Type);
      }
    }
  }
  return types;
}
