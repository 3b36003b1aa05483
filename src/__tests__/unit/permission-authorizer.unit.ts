import {
  AuthorizationContext,
  AuthorizationDecision,
  AuthorizationMetadata,
} from '@loopback/authorization';
import {expect} from '@loopback/testlab';
import {
  decideByPermissions,
  PermissionAuthorizerProvider,
} from '../../auth/permission.authorizer';

describe('Permission authorizer (unit)', () => {
  const route: AuthorizationMetadata = {scopes: ['ViewTask', 'EditTask']};
  const cases: [string, {permissions?: unknown} | undefined, string][] = [
    ['no principal', undefined, AuthorizationDecision.DENY],
    ['one of the scopes', {permissions: ['EditTask']}, 'Allow'],
    ['none of them', {permissions: ['Other']}, AuthorizationDecision.DENY],
    ['no permissions', {}, AuthorizationDecision.DENY],
    ['permissions not a list', {permissions: 'ViewTask'}, 'Deny'],
  ];

  it('decides by the permissions the principal holds', async () => {
    const authorizer = new PermissionAuthorizerProvider().value();
    for (const [what, principal, decision] of cases) {
      const context = {
        principals: principal ? [principal] : [],
      } as unknown as AuthorizationContext;
      expect({what, decision: decideByPermissions(principal, route)}).to.eql({
        what,
        decision,
      });
      // The authorizer the pipeline calls decides the same.
      expect({what, decision: await authorizer(context, route)}).to.eql({
        what,
        decision,
      });
    }
  });

  it('* admits any authenticated user', () => {
    expect(decideByPermissions({permissions: []}, {scopes: ['*']})).to.equal(
      AuthorizationDecision.ALLOW,
    );
    expect(decideByPermissions(undefined, {scopes: ['*']})).to.equal(
      AuthorizationDecision.DENY,
    );
  });
});
