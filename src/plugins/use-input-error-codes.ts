/**
 * Gives request-level errors the `extensions.code` clients branch on. graphql-js reports a bad
 * argument literal as a validation failure and a bad variable value without any code; both are the
 * caller's input being wrong, so both become BAD_USER_INPUT. Other validation errors keep Yoga's
 * GRAPHQL_VALIDATION_FAILED. The variables' rule is `answer-rules.ts`'s, shared with the trusted
 * documents' fast path.
 */
import {
  GraphQLError,
  validate,
  ValuesOfCorrectTypeRule,
  type ExecutionResult,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { codeInputErrors } from '../answer-rules.js';
import type { ErrorCode } from '../error-codes.js';

const BAD_USER_INPUT: ErrorCode = 'BAD_USER_INPUT';

/** graphql-js's own rule, with what it reports coded as bad input. */
const ValuesOfCorrectTypeAsBadInput: ValidationRule = (context) => {
  const recoded = Object.create(context, {
    reportError: {
      value: (error: GraphQLError) =>
        context.reportError(
          new GraphQLError(error.message, {
            nodes: error.nodes,
            extensions: { ...error.extensions, code: BAD_USER_INPUT },
          }),
        ),
    },
  }) as ValidationContext;
  return ValuesOfCorrectTypeRule(recoded);
};

export function useInputErrorCodes(): Plugin {
  return {
    onValidate({ setValidationFn }) {
      setValidationFn((schema, document, rules, typeInfo, options) =>
        validate(
          schema,
          document,
          rules?.map((rule: ValidationRule) =>
            rule === ValuesOfCorrectTypeRule ? ValuesOfCorrectTypeAsBadInput : rule,
          ),
          options,
          typeInfo,
        ),
      );
    },
    onExecute() {
      return {
        onExecuteDone({ result }) {
          if (!(Symbol.asyncIterator in result)) codeInputErrors(result as ExecutionResult);
        },
      };
    },
  };
}
