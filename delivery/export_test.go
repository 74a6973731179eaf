package delivery

// ClientMsgIDForTest exposes the de-duplication id of an outbox key.
var ClientMsgIDForTest = clientMsgID
