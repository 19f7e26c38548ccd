/**
 * Report names (`main`, `release/1.4`): the server keeps a name -> report pointer so a CI
 * pipeline can say `--baseline main`. One rule for the server that stores names and the CLI
 * that checks them before any network access.
 */
export const REPORT_NAME_MAX = 100;

/**
 * Why `name` is not a report name, or undefined when it is one: 1-100 ASCII letters, digits,
 * ".", "_", "-" and "/"; parts separated by single "/" (no leading, trailing or doubled "/");
 * no part starting with "." (so no "." or ".." parts) and no ".." anywhere. Case-sensitive.
 */
export function reportNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > REPORT_NAME_MAX)
    return `must be 1-${REPORT_NAME_MAX} characters long`;
  if (!/^[A-Za-z0-9._/-]+$/.test(name)) return 'may contain only letters, digits, ".", "_", "-" and "/"';
  if (name.includes('..')) return 'must not contain ".."';
  if (name.startsWith('/')) return 'must not start with "/"';
  if (name.endsWith('/') || name.includes('//')) return 'must not end with "/" or contain "//"';
  if (name.split('/').some((part) => part.startsWith('.'))) return 'no part may start with "."';
  return undefined;
}
