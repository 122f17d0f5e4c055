// typedoc plugin: an argument's default is stated once, in its schema
// (`Type.Integer({ default: 5 })`), and the API docs show it from there as the
// property's `@defaultValue`, so the docs cannot drift from what Ajv fills in.
import { Comment, CommentTag, Converter, ReflectionKind } from 'typedoc';
import ts from 'typescript';

/** Calls whose argument object declares a nested schema's own defaults, not this property's. */
const NESTED_SCHEMA = /(^|\.)(ArgsObject|Object)$/;

/** A literal's source text, else the literal type the checker gives it (`DEFAULT_POS.sxy` → `3`). */
function valueText(checker, node) {
  const literal = /^(-?[\d.e+-]+|'[^']*'|"[^"]*"|true|false|null|\[[^\]]*\])$/;
  if (literal.test(node.getText())) return node.getText();
  return checker.typeToString(checker.getTypeAtLocation(node), undefined, ts.TypeFormatFlags.NoTruncation);
}

/**
 * The `default:` written in a property's schema expression, if any; a shared
 * fragment (`pos: gaussianKernelSchema`) is followed to its declaration.
 */
function schemaDefault(checker, expression) {
  let found;
  const seen = new Set();
  const visit = (node) => {
    if (found !== undefined) return;
    if (ts.isCallExpression(node) && NESTED_SCHEMA.test(node.expression.getText())) return;
    if (ts.isPropertyAssignment(node) && node.name.getText() === 'default') {
      found = valueText(checker, node.initializer);
      return;
    }
    if (ts.isIdentifier(node) || ts.isPropertyAccessExpression(node)) {
      const symbol = checker.getSymbolAtLocation(node);
      const target = symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const declaration = target?.valueDeclaration;
      if (declaration !== undefined && !seen.has(declaration) && (ts.isVariableDeclaration(declaration) || ts.isPropertyAssignment(declaration)) && declaration.initializer !== undefined) {
        seen.add(declaration);
        visit(declaration.initializer);
      }
      if (ts.isIdentifier(node)) return;
    }
    ts.forEachChild(node, visit);
  };
  visit(expression);
  return found;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Property)) return;
    const declaration = context.getSymbolFromReflection(reflection)?.declarations?.[0];
    if (declaration === undefined || !ts.isPropertyAssignment(declaration)) return;
    // The initializer is the schema expression (`= Type.Optional(…)`), not a value: don't print it.
    reflection.defaultValue = undefined;
    const value = schemaDefault(context.checker, declaration.initializer);
    if (value === undefined) return;
    reflection.comment ??= new Comment();
    if (reflection.comment.getTag('@defaultValue') !== undefined) return;
    reflection.comment.blockTags.push(new CommentTag('@defaultValue', [{ kind: 'code', text: `\`\`\`ts\n${value}\n\`\`\`` }]));
  });
}
