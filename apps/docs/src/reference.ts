import { relative } from 'node:path';
import {
  Application,
  Comment,
  ConsoleLogger,
  Converter,
  DeclarationReflection,
  LogLevel,
  type ProjectReflection,
  type Reflection,
  ReflectionKind,
} from 'typedoc';
import { type EntryPoint, repositoryRoot } from './entry-points.js';
import { type ReferenceSettings, typedocOptions } from './options.js';

/** A TypeDoc logger that also keeps the warnings and errors it prints, for a test to show. */
class RecordingLogger extends ConsoleLogger {
  readonly problems: string[] = [];
  override log(message: string, level: Exclude<LogLevel, LogLevel.None>): void {
    if (level >= LogLevel.Warn) this.problems.push(message);
    super.log(message, level);
  }
}

/** The API as TypeDoc converted it (none if it could not), and every warning or error on the way. */
export interface ConvertedReference {
  app: Application;
  project: ProjectReflection | undefined;
  problems: string[];
}

/**
 * Names each entry point's module by what users import (`@tsgrad/data/node`, not the path of
 * its file) and gives a package's main entry its package.json description if its file has no
 * `@packageDocumentation` comment.
 */
function nameModulesBySpecifier(app: Application, entryPoints: EntryPoint[]): void {
  const byFile = new Map(entryPoints.map((e) => [e.file, e]));
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName;
    const entry = file === undefined ? undefined : byFile.get(file);
    if (!entry) return;
    reflection.name = entry.specifier;
    if (!reflection.comment && entry.description) {
      reflection.comment = new Comment([{ kind: 'text', text: entry.description }]);
    }
  });
}

/** Converts the entry points' sources with TypeDoc and runs its validation. */
export async function convertReference(
  entryPoints: EntryPoint[],
  settings: ReferenceSettings = {},
): Promise<ConvertedReference> {
  const app = await Application.bootstrapWithPlugins(typedocOptions(entryPoints, settings));
  nameModulesBySpecifier(app, entryPoints);
  const logger = new RecordingLogger();
  logger.level = LogLevel.Warn;
  app.logger = logger;
  const project = await app.convert();
  if (!project)
    return { app, project, problems: [...logger.problems, 'TypeDoc could not convert the sources'] };
  app.validate(project);
  return { app, project, problems: logger.problems };
}

/** An exported declaration without a doc comment. */
export interface Undocumented {
  /** Its full name, e.g. `@tsgrad/nn.Linear.weight`. */
  name: string;
  /** TypeDoc's kind: Function, Class, Property… */
  kind: string;
  /** Where it is declared: a path relative to the repository root, and a 1-based line. */
  file: string;
  line: number;
}

/**
 * What must carry a doc comment: every module (entry point) and namespace, function, class,
 * interface, type alias, variable and enum, and the properties, methods and accessors of
 * classes and interfaces. Constructors are covered by their class's comment, and the members
 * of anonymous object types by the comment of the declaration that holds them.
 */
const checkedKinds =
  ReflectionKind.Module |
  ReflectionKind.Namespace |
  ReflectionKind.Enum |
  ReflectionKind.EnumMember |
  ReflectionKind.Variable |
  ReflectionKind.Function |
  ReflectionKind.Class |
  ReflectionKind.Interface |
  ReflectionKind.Property |
  ReflectionKind.Method |
  ReflectionKind.Accessor |
  ReflectionKind.TypeAlias;

/**
 * Inside a parameter, an anonymous object type (`options: { lr: number }`) or a type alias's
 * object type: the comment of the declaration that holds it covers it.
 */
function isInsideAnonymousType(reflection: Reflection): boolean {
  for (let r = reflection.parent; r; r = r.parent) {
    if (r.kindOf(ReflectionKind.TypeLiteral | ReflectionKind.Parameter | ReflectionKind.TypeAlias))
      return true;
  }
  return false;
}

/**
 * A function or method is documented when every signature (overload) is; an accessor when its
 * getter or setter is; anything else by its own comment.
 */
function isDocumented(d: DeclarationReflection): boolean {
  if (d.hasComment()) return true;
  const accessors = [d.getSignature, d.setSignature].filter((s) => s !== undefined);
  if (accessors.length > 0) return accessors.some((s) => s.hasComment());
  const signatures = d.signatures ?? [];
  return signatures.length > 0 && signatures.every((s) => s.hasComment());
}

/**
 * Every exported declaration of the project that has no doc comment, once (where it is
 * declared, not again in each subclass that inherits it), sorted by file and line.
 */
export function findUndocumented(project: ProjectReflection, root = repositoryRoot): Undocumented[] {
  const found = new Map<string, Undocumented>();
  for (const reflection of project.getReflectionsByKind(checkedKinds)) {
    if (!(reflection instanceof DeclarationReflection) || reflection.inheritedFrom) continue;
    if (isInsideAnonymousType(reflection) || isDocumented(reflection)) continue;
    const source = reflection.sources?.[0] ?? reflection.signatures?.[0]?.sources?.[0];
    const entry: Undocumented = {
      name: reflection.getFriendlyFullName(),
      kind: ReflectionKind[reflection.kind] ?? String(reflection.kind),
      file: source ? relative(root, source.fullFileName) : '(unknown file)',
      line: source?.line ?? 0,
    };
    found.set(`${entry.file}:${entry.line}:${entry.name.split('.').at(-1)}`, entry);
  }
  return [...found.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/** One line per undocumented declaration, `file:line  name (kind)`, as a test failure shows them. */
export function formatUndocumented(list: Undocumented[]): string {
  return list.map((u) => `${u.file}:${u.line}  ${u.name} (${u.kind})`).join('\n');
}
